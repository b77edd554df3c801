package header

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseAccept(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []MediaRange
	}{
		{"empty", "", nil},
		{"one", "text/html", []MediaRange{{Type: "text", Subtype: "html", Q: 1000}}},
		{"browser", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", []MediaRange{
			{Type: "text", Subtype: "html", Q: 1000},
			{Type: "application", Subtype: "xhtml+xml", Q: 1000},
			{Type: "application", Subtype: "xml", Q: 900},
			{Type: "*", Subtype: "*", Q: 800},
		}},
		{"case and spaces", " Text/HTML ; Q=0.5 ,\tapplication/JSON", []MediaRange{
			{Type: "text", Subtype: "html", Q: 500},
			{Type: "application", Subtype: "json", Q: 1000},
		}},
		{"lone star", "*", []MediaRange{{Type: "*", Subtype: "*", Q: 1000}}},
		{"params", `text/html;level=1;charset=utf-8;q=0.3;ext=1`, []MediaRange{
			{Type: "text", Subtype: "html", Params: "level=1", Q: 300},
		}},
		{"quoted comma", `text/plain;x="a,b", text/html`, []MediaRange{
			{Type: "text", Subtype: "plain", Params: "x=a,b", Q: 1000},
			{Type: "text", Subtype: "html", Q: 1000},
		}},
		{"malformed skipped", "text, /html, text/, */html, text/html;q=2, text/html;q=0.1234, a/b;q=, x y/z, text/plain;q=0", []MediaRange{
			{Type: "text", Subtype: "plain", Q: 0},
		}},
		{"q forms", "a/a;q=1.000, b/b;q=0., c/c;q=0.05", []MediaRange{
			{Type: "a", Subtype: "a", Q: 1000},
			{Type: "b", Subtype: "b", Q: 0},
			{Type: "c", Subtype: "c", Q: 50},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseAccept(nil, tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseAccept(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseAcceptBounded(t *testing.T) {
	huge := strings.Repeat("text/html;q=0.5,", 100000)
	if got := len(ParseAccept(nil, huge)); got != MaxEntries {
		t.Errorf("parsed %d entries of a huge header, want %d", got, MaxEntries)
	}
	// An element beyond MaxLength is not seen.
	late := strings.Repeat(" ", MaxLength) + "text/html"
	if got := ParseAccept(nil, late); len(got) != 0 {
		t.Errorf("parsed %v beyond MaxLength", got)
	}
}

func TestNegotiate(t *testing.T) {
	offers := []string{"text/html", "application/problem+json", "application/json", "text/plain"}
	tests := []struct {
		accept string
		index  int
		q      int
	}{
		{"", 0, 1000},
		{"*/*", 0, 1000},
		{"application/json", 2, 1000},
		{"application/*", 1, 1000},
		{"application/problem+json, application/json;q=0.9", 1, 1000},
		{"text/plain, */*;q=0.1", 3, 1000},
		{"text/*;q=0.9, text/plain", 3, 1000},
		{"text/*, text/html;q=0", 3, 1000},
		{"image/png", -1, 0},
		{"text/html;level=1", -1, 0},
		{"*/*;q=0.1, application/json;q=0.2", 2, 200},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			i, q := Negotiate(ParseAccept(nil, tt.accept), offers)
			if i != tt.index || q != tt.q {
				t.Errorf("Negotiate(%q) = %d, %d; want %d, %d", tt.accept, i, q, tt.index, tt.q)
			}
		})
	}
}

func TestParseAcceptLanguage(t *testing.T) {
	tests := []struct {
		in   string
		want []LanguageRange
	}{
		{"", nil},
		{"de", []LanguageRange{{"de", 1000}}},
		{"en-US,en;q=0.9,de;q=0.95", []LanguageRange{{"en-US", 1000}, {"de", 950}, {"en", 900}}},
		{"fr;q=0.5, ja;q=0.5, *;q=0.1", []LanguageRange{{"fr", 500}, {"ja", 500}, {"*", 100}}},
		{"x, de;q=0, 12, en-, -en, en--us, toolongtag, en;q=abc, zh-Hant-TW", []LanguageRange{{"x", 1000}, {"zh-Hant-TW", 1000}}},
		{"<script>, pt-BR", []LanguageRange{{"pt-BR", 1000}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ParseAcceptLanguage(nil, tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseAcceptLanguage(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	if got := len(ParseAcceptLanguage(nil, strings.Repeat("de,", 100000))); got != MaxEntries {
		t.Errorf("parsed %d entries of a huge header, want %d", got, MaxEntries)
	}
}

func TestLanguageMatcher(t *testing.T) {
	m := NewLanguageMatcher("en", "de", "pt", "zh-Hans", "ar")
	tests := []struct {
		accept string
		want   string
	}{
		{"", "en"},
		{"de-AT", "de"},
		{"pt-BR,pt;q=0.9", "pt"},
		{"DE-ch", "de"},
		{"fr, de;q=0.5", "de"},
		{"zh-CN", "zh-Hans"},
		{"zh", "zh-Hans"},
		{"zh-Hans-HK", "zh-Hans"},
		{"zh-TW, ar;q=0.2", "ar"},
		{"*", "en"},
		{"sw, *;q=0.5, de;q=0.1", "en"},
		{"ar-EG", "ar"},
		{"klingon, de", "de"},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			got := m.Tag(m.Match(ParseAcceptLanguage(nil, tt.accept))).String()
			if got != tt.want {
				t.Errorf("Match(%q) = %s, want %s", tt.accept, got, tt.want)
			}
		})
	}
}

func FuzzParseAccept(f *testing.F) {
	for _, s := range []string{"", "*/*", "text/html;q=0.9,application/json", `a/b;x="q,;\"";q=0.1`, "text/*;q=1.000"} {
		f.Add(s)
	}
	offers := []string{"text/html", "application/problem+json", "application/json", "text/plain"}
	f.Fuzz(func(t *testing.T, s string) {
		rs := ParseAccept(nil, s)
		if len(rs) > MaxEntries {
			t.Fatalf("%d entries", len(rs))
		}
		for _, r := range rs {
			if r.Q < 0 || r.Q > 1000 || !isToken(r.Type) || !isToken(r.Subtype) || r.Type != lower(r.Type) {
				t.Fatalf("bad range %+v from %q", r, s)
			}
		}
		i, q := Negotiate(rs, offers)
		if i < -1 || i >= len(offers) || (i == -1) != (q == 0) {
			t.Fatalf("Negotiate = %d, %d", i, q)
		}
	})
}

func FuzzParseAcceptLanguage(f *testing.F) {
	for _, s := range []string{"", "en-US,en;q=0.9", "zh-Hant-TW;q=0.5, *", "pt-BR;q=0"} {
		f.Add(s)
	}
	m := NewLanguageMatcher("en", "de", "pt", "zh-Hans", "ar")
	f.Fuzz(func(t *testing.T, s string) {
		rs := ParseAcceptLanguage(nil, s)
		if len(rs) > MaxEntries {
			t.Fatalf("%d entries", len(rs))
		}
		for i, r := range rs {
			if r.Q <= 0 || r.Q > 1000 || !validRange(r.Tag) || (i > 0 && r.Q > rs[i-1].Q) {
				t.Fatalf("bad range %+v in %v from %q", r, rs, s)
			}
		}
		if i := m.Match(rs); i < 0 || i >= 5 {
			t.Fatalf("Match = %d", i)
		}
	})
}

func BenchmarkParseAndNegotiate(b *testing.B) {
	offers := []string{"text/html", "application/problem+json", "application/json", "text/plain"}
	m := NewLanguageMatcher("en", "de", "pt", "zh-Hans", "ar")
	b.ReportAllocs()
	for b.Loop() {
		var ab [MaxEntries]MediaRange
		var lb [MaxEntries]LanguageRange
		Negotiate(ParseAccept(ab[:0], "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"), offers)
		m.Match(ParseAcceptLanguage(lb[:0], "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7"))
	}
}
