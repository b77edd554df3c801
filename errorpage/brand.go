package errorpage

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Brand is the operator's identity on the pages. Every field is optional;
// [New] validates the ones that are set and rejects bad values.
type Brand struct {
	// Name is the service's name, shown in the page's header and title
	// (the "where it failed" strip names its nodes by role: your browser,
	// the gateway, the service). If empty, the pages carry no name.
	Name string

	// Logo is shown beside the name. It is either a data: URI of a PNG,
	// GIF, JPEG, WebP or SVG image, base64-encoded ("data:image/png;base64,
	// ..."), or SVG markup ("<svg ...>...</svg>"), which is embedded as a
	// data: URI so that it cannot run script or load anything. An http or
	// https URL is rejected: the pages make no external request. Its size
	// counts towards the page's; keep it small (a few KB). If empty, no
	// logo is shown.
	Logo string

	// Colours are CSS hex colours, "#rgb" or "#rrggbb". Text on background
	// and accent on background must have a contrast ratio of at least 4.5:1
	// (WCAG AA), in light and in dark mode; [New] checks it. The defaults
	// are a calm grey and blue.
	AccentColor     string // links and highlights; default "#1f56c4"
	BackgroundColor string // page background; default "#f6f7f9"
	TextColor       string // body text; default "#1b1d22"
	// DarkAccentColor is the accent in dark mode. If empty, it is derived
	// from AccentColor when that is set: AccentColor itself if it has
	// 4.5:1 contrast on the dark background, else AccentColor lightened
	// (mixed with white, keeping its hue) until it has; and "#8db4ff"
	// when neither is set.
	DarkAccentColor     string
	DarkBackgroundColor string // background in dark mode; default "#15171c"
	DarkTextColor       string // text in dark mode; default "#e6e8ec"

	// HomeURL, SupportURL and StatusURL are links offered to the visitor:
	// the site's home page, a support contact, and a status page. Each
	// must be an absolute http or https URL, or a mailto: URL, of at most
	// 2048 bytes. Empty links are not shown.
	HomeURL    string
	SupportURL string
	StatusURL  string

	// Footer is a line of plain text at the bottom of HTML and text pages,
	// such as a company name. If empty, there is no footer.
	Footer string
}

// BrandData is a validated [Brand] as templates see it, in [Data.Brand].
type BrandData struct {
	Name       string       // Brand.Name
	Logo       template.URL // Brand.Logo as a validated data: URI; empty for none
	HomeURL    string       // Brand.HomeURL, validated
	SupportURL string       // Brand.SupportURL, validated
	StatusURL  string       // Brand.StatusURL, validated
	Footer     string       // Brand.Footer

	// CSS declares the colours as CSS custom properties, for a :root rule:
	// --accent, --bg and --fg, and their dark-mode values --accent-d,
	// --bg-d and --fg-d.
	CSS template.CSS
}

var (
	// ErrBrand is the error that wraps every invalid Brand value; New
	// returns it wrapped with the field at fault.
	ErrBrand = errors.New("errorpage: invalid brand")
)

const maxBrandText = 200 // runes, for Name and Footer

// view validates b and returns it ready for the templates.
func (b Brand) view() (BrandData, error) {
	v := BrandData{Name: b.Name, Footer: b.Footer}
	for _, f := range []struct{ name, val string }{{"Name", b.Name}, {"Footer", b.Footer}} {
		if !utf8.ValidString(f.val) || utf8.RuneCountInString(f.val) > maxBrandText {
			return v, fmt.Errorf("%w: %s must be valid UTF-8 of at most %d characters", ErrBrand, f.name, maxBrandText)
		}
		if strings.IndexFunc(f.val, isControlOrBreak) >= 0 {
			return v, fmt.Errorf("%w: %s must be one line without control characters", ErrBrand, f.name)
		}
	}
	logo, err := logoURI(b.Logo)
	if err != nil {
		return v, err
	}
	v.Logo = template.URL(logo)
	for _, l := range []struct {
		name string
		val  string
		dst  *string
	}{{"HomeURL", b.HomeURL, &v.HomeURL}, {"SupportURL", b.SupportURL, &v.SupportURL}, {"StatusURL", b.StatusURL, &v.StatusURL}} {
		if l.val == "" {
			continue
		}
		if err := checkLink(l.val); err != nil {
			return v, fmt.Errorf("%w: %s %q: %v", ErrBrand, l.name, l.val, err)
		}
		*l.dst = l.val
	}
	type pair struct {
		name, val, def string
		rgb            [3]float64
	}
	cols := []pair{
		{name: "AccentColor", val: b.AccentColor, def: "#1f56c4"},
		{name: "BackgroundColor", val: b.BackgroundColor, def: "#f6f7f9"},
		{name: "TextColor", val: b.TextColor, def: "#1b1d22"},
		{name: "DarkAccentColor", val: b.DarkAccentColor, def: "#8db4ff"},
		{name: "DarkBackgroundColor", val: b.DarkBackgroundColor, def: "#15171c"},
		{name: "DarkTextColor", val: b.DarkTextColor, def: "#e6e8ec"},
	}
	for i := range cols {
		c := &cols[i]
		if c.val == "" && i == 3 && b.AccentColor != "" {
			continue // derived below, once the dark background is known
		}
		if c.val == "" {
			c.val = c.def
		}
		rgb, ok := parseHexColor(c.val)
		if !ok {
			return v, fmt.Errorf("%w: %s %q is not a #rgb or #rrggbb colour", ErrBrand, c.name, c.val)
		}
		c.rgb = rgb
		c.val = strings.ToLower(c.val)
	}
	if cols[3].val == "" {
		cols[3].val = darkAccent(cols[0].val, cols[4].rgb)
		cols[3].rgb, _ = parseHexColor(cols[3].val)
	}
	for _, chk := range [][2]int{{0, 1}, {2, 1}, {3, 4}, {5, 4}} {
		fg, bg := cols[chk[0]], cols[chk[1]]
		if r := contrast(fg.rgb, bg.rgb); r < 4.5 {
			return v, fmt.Errorf("%w: %s %s on %s %s has contrast %.2f:1, below WCAG AA's 4.5:1", ErrBrand, fg.name, fg.val, bg.name, bg.val, r)
		}
	}
	v.CSS = template.CSS("--accent:" + cols[0].val + ";--bg:" + cols[1].val + ";--fg:" + cols[2].val +
		";--accent-d:" + cols[3].val + ";--bg-d:" + cols[4].val + ";--fg-d:" + cols[5].val)
	return v, nil
}

// darkAccent returns the accent for dark mode derived from accent, a valid
// hex colour: accent itself if it has 4.5:1 contrast on bg (linear sRGB),
// else accent mixed with white, in steps of 1/32, until it has. White has
// at least 4.5:1 on any background dark enough for light text, which New
// checks; should bg be too light for that, the result fails that check.
func darkAccent(accent string, bg [3]float64) string {
	var c [3]float64
	rgb, _ := parseHexColor(accent)
	if contrast(rgb, bg) >= 4.5 {
		return accent
	}
	h := accent[1:]
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	for i := range 3 {
		v, _ := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		c[i] = float64(v)
	}
	var out string
	for step := 1; step <= 32; step++ {
		t := float64(step) / 32
		out = fmt.Sprintf("#%02x%02x%02x", mix(c[0], t), mix(c[1], t), mix(c[2], t))
		if m, _ := parseHexColor(out); contrast(m, bg) >= 4.5 {
			break
		}
	}
	return out
}

// mix returns the 8-bit component v mixed with white by t, rounded.
func mix(v, t float64) int { return int(math.Round(v + (255-v)*t)) }

// isControlOrBreak reports whether r is a control character (C0, DEL or C1)
// or a Unicode line or paragraph separator.
func isControlOrBreak(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// maxLink bounds the length of a Brand link, so that the pages stay small.
const maxLink = 2048

// checkLink accepts absolute http and https URLs with a host, and mailto:
// URLs with an address, of at most maxLink bytes.
func checkLink(s string) error {
	if len(s) > maxLink {
		return fmt.Errorf("is longer than %d bytes", maxLink)
	}
	if strings.ContainsAny(s, " \t\r\n\x00\"'<>\\`") {
		return errors.New("contains a space, quote, angle bracket or control character")
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return errors.New("has no host")
		}
	case "mailto":
		if u.Opaque == "" {
			return errors.New("has no address")
		}
	default:
		return errors.New("must be an absolute http, https or mailto URL")
	}
	return nil
}

// maxLogo bounds a logo, which is inlined into every HTML page.
const maxLogo = 8 << 10

// logoURI returns the logo as a validated data: URI.
func logoURI(logo string) (string, error) {
	if logo == "" {
		return "", nil
	}
	if len(logo) > maxLogo {
		return "", fmt.Errorf("%w: Logo is %d bytes; at most %d fit in a page", ErrBrand, len(logo), maxLogo)
	}
	if strings.HasPrefix(logo, "<svg") || strings.HasPrefix(logo, "<?xml") {
		if !utf8.ValidString(logo) || !strings.Contains(logo, "</svg>") {
			return "", fmt.Errorf("%w: Logo is not complete SVG markup", ErrBrand)
		}
		uri := "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(logo))
		if len(uri) > maxLogo {
			return "", fmt.Errorf("%w: Logo is %d bytes encoded; at most %d fit in a page", ErrBrand, len(uri), maxLogo)
		}
		return uri, nil
	}
	mediaType, data, ok := strings.Cut(strings.TrimPrefix(logo, "data:"), ";base64,")
	if !strings.HasPrefix(logo, "data:") || !ok {
		return "", fmt.Errorf("%w: Logo must be a base64 data: URI or SVG markup, not %.40q (the pages make no external request)", ErrBrand, logo)
	}
	switch mediaType {
	case "image/png", "image/gif", "image/jpeg", "image/webp", "image/svg+xml":
	default:
		return "", fmt.Errorf("%w: Logo media type %q is not an image type the pages accept", ErrBrand, mediaType)
	}
	if _, err := base64.StdEncoding.DecodeString(data); err != nil || data == "" {
		return "", fmt.Errorf("%w: Logo data is not valid base64", ErrBrand)
	}
	return logo, nil
}

// parseHexColor parses "#rgb" or "#rrggbb" into linear-light sRGB components.
func parseHexColor(s string) ([3]float64, bool) {
	var rgb [3]float64
	if len(s) != 4 && len(s) != 7 || s[0] != '#' {
		return rgb, false
	}
	hex := func(c byte) (int, bool) {
		switch {
		case '0' <= c && c <= '9':
			return int(c - '0'), true
		case 'a' <= c && c <= 'f':
			return int(c-'a') + 10, true
		case 'A' <= c && c <= 'F':
			return int(c-'A') + 10, true
		}
		return 0, false
	}
	for i := range 3 {
		var v int
		if len(s) == 4 {
			d, ok := hex(s[1+i])
			if !ok {
				return rgb, false
			}
			v = d*16 + d
		} else {
			hi, ok1 := hex(s[1+2*i])
			lo, ok2 := hex(s[2+2*i])
			if !ok1 || !ok2 {
				return rgb, false
			}
			v = hi*16 + lo
		}
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		rgb[i] = c
	}
	return rgb, true
}

// contrast returns the WCAG 2 contrast ratio of two linear sRGB colours.
func contrast(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 { return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2] }
	la, lb := lum(a), lum(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}
