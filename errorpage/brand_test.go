package errorpage

import (
	"errors"
	"strings"
	"testing"
)

func TestBrandValidation(t *testing.T) {
	const png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
	tests := []struct {
		name  string
		brand Brand
		ok    bool
	}{
		{"zero", Brand{}, true},
		{"full", Brand{Name: "Acme", Logo: png, AccentColor: "#0a58ca", BackgroundColor: "#FFF", TextColor: "#222",
			DarkAccentColor: "#9ec5fe", DarkBackgroundColor: "#111", DarkTextColor: "#eee",
			HomeURL: "https://example.com/", SupportURL: "mailto:help@example.com", StatusURL: "http://status.example.com/x?y=1", Footer: "© Acme"}, true},
		{"svg logo", Brand{Logo: `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>`}, true},
		{"http logo", Brand{Logo: "https://example.com/logo.png"}, false},
		{"javascript logo", Brand{Logo: "data:text/html;base64,PHNjcmlwdD4="}, false},
		{"bad base64 logo", Brand{Logo: "data:image/png;base64,@@@"}, false},
		{"svg not closed", Brand{Logo: "<svg>"}, false},
		{"huge logo", Brand{Logo: "data:image/png;base64," + strings.Repeat("A", maxLogo)}, false},
		{"named colour", Brand{AccentColor: "red"}, false},
		{"css injection", Brand{AccentColor: "#fff;}body{display:none"}, false},
		{"bad hex", Brand{TextColor: "#ggg"}, false},
		{"low contrast text", Brand{TextColor: "#cccccc"}, false},
		{"low contrast accent", Brand{AccentColor: "#ffff00"}, false},
		{"low contrast dark", Brand{DarkTextColor: "#222"}, false},
		{"javascript link", Brand{HomeURL: "javascript:alert(1)"}, false},
		{"relative link", Brand{SupportURL: "/support"}, false},
		{"quote in link", Brand{StatusURL: `https://example.com/"onmouseover=x`}, false},
		{"mailto without address", Brand{SupportURL: "mailto:"}, false},
		{"multi-line name", Brand{Name: "Acme\r\nSet-Cookie: x"}, false},
		{"long footer", Brand{Footer: strings.Repeat("x", 201)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Brand: tt.brand})
			if (err == nil) != tt.ok {
				t.Fatalf("New: err = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBrand) {
				t.Errorf("error %v does not wrap ErrBrand", err)
			}
		})
	}
}

func TestDefaultColoursMeetWCAGAA(t *testing.T) {
	// The status dots: white on the ok and bad colours, light and dark.
	for _, bg := range []string{"#1a7f37", "#c4262e", "#1f883d", "#d1242f"} {
		w, _ := parseHexColor("#fff")
		b, _ := parseHexColor(bg)
		if c := contrast(w, b); c < 4.5 {
			t.Errorf("white on %s: contrast %.2f, below 4.5", bg, c)
		}
	}
	v, err := Brand{}.view()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(v.CSS), "--accent:#1f56c4") {
		t.Errorf("CSS = %s", v.CSS)
	}
}
