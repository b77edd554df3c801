package errorpage

import (
	"errors"
	"regexp"
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
	v, err := Brand{}.view()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(v.CSS), "--accent:#1f56c4") {
		t.Errorf("CSS = %s", v.CSS)
	}
	// The status dots of the embedded page, light then dark: the white
	// glyph on each needs a comfortable 5:1 (AA asks 4.5:1), and the dot
	// 3:1 against the default background, as a non-text element.
	page, err := embedded.ReadFile("templates/default.html")
	if err != nil {
		t.Fatal(err)
	}
	dots := regexp.MustCompile(`--ok:(#[0-9a-f]{6});--bad:(#[0-9a-f]{6})`).FindAllStringSubmatch(string(page), -1)
	bgs := regexp.MustCompile(`--bg(?:-d)?:(#[0-9a-f]{3,6})`).FindAllStringSubmatch(string(v.CSS), -1)
	if len(dots) != 2 || len(bgs) != 2 {
		t.Fatalf("found dot colours %q and backgrounds %q, want two of each", dots, bgs)
	}
	white, _ := parseHexColor("#fff")
	for i, scheme := range []string{"light", "dark"} {
		bg, ok := parseHexColor(bgs[i][1])
		if !ok {
			t.Fatalf("background %q", bgs[i][1])
		}
		for _, dot := range dots[i][1:] {
			c, ok := parseHexColor(dot)
			if !ok {
				t.Fatalf("dot colour %q", dot)
			}
			if r := contrast(white, c); r < 5 {
				t.Errorf("%s: white on %s: contrast %.2f, below 5", scheme, dot, r)
			}
			if r := contrast(c, bg); r < 3 {
				t.Errorf("%s: %s on %s: contrast %.2f, below 3", scheme, dot, bgs[i][1], r)
			}
		}
	}
}

// TestDarkAccent checks that a brand's accent applies in dark mode: derived
// from AccentColor, with AA contrast on the dark background and the
// accent's hue, unless DarkAccentColor is given, which is validated.
func TestDarkAccent(t *testing.T) {
	accentD := regexp.MustCompile(`--accent-d:(#[0-9a-f]{3,6})`)
	tests := []struct {
		name  string
		brand Brand
		want  string // the dark accent, or "" for a derived one checked by contrast and hue
	}{
		{"default", Brand{}, "#8db4ff"},
		{"given", Brand{AccentColor: "#b00020", DarkAccentColor: "#ff8a9b"}, "#ff8a9b"},
		{"derived red", Brand{AccentColor: "#b00020"}, ""},
		{"derived green", Brand{AccentColor: "#0a6b2e"}, ""},
		{"derived short", Brand{AccentColor: "#60c"}, ""},
		{"derived on a custom dark background", Brand{AccentColor: "#1f56c4", DarkBackgroundColor: "#2a2f3a"}, ""},
		{"kept when it contrasts already", Brand{AccentColor: "#767676", BackgroundColor: "#ffffff", DarkBackgroundColor: "#000000"}, "#767676"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.brand.view()
			if err != nil {
				t.Fatal(err)
			}
			m := accentD.FindStringSubmatch(string(v.CSS))
			if m == nil {
				t.Fatalf("no --accent-d in %s", v.CSS)
			}
			got := m[1]
			if tt.want != "" {
				if got != tt.want {
					t.Errorf("dark accent %s, want %s", got, tt.want)
				}
				return
			}
			bgHex := tt.brand.DarkBackgroundColor
			if bgHex == "" {
				bgHex = "#15171c"
			}
			bg, _ := parseHexColor(bgHex)
			c, _ := parseHexColor(got)
			if r := contrast(c, bg); r < 4.5 {
				t.Errorf("dark accent %s on %s: contrast %.2f", got, bgHex, r)
			}
			if got == "#8db4ff" || got == "#ffffff" {
				t.Errorf("dark accent %s is not derived from %s", got, tt.brand.AccentColor)
			}
			// The hue is kept: the accent's strongest channel stays the
			// derived colour's strongest.
			a, _ := parseHexColor(tt.brand.AccentColor)
			if strongest(a) != strongest(c) {
				t.Errorf("dark accent %s lost the hue of %s", got, tt.brand.AccentColor)
			}
		})
	}
	if _, err := (Brand{DarkAccentColor: "#222222"}).view(); err == nil {
		t.Error("a dark accent without contrast on the dark background is accepted")
	}
}

func strongest(c [3]float64) int {
	i := 0
	for j := range c {
		if c[j] > c[i] {
			i = j
		}
	}
	return i
}
