package browsertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// outDir is where every page's screenshot goes, for a person to look at.
const outDir = "out"

// TestPages renders the 502, 503 and 504 pages of a real gateway in
// chromium at a phone's and a desktop's width, light and dark, in English
// and Arabic, and checks each one: the branded page with its status, the
// language and direction, no horizontal scroll, no console error or
// exception, no request besides the page itself, and WCAG AA contrast of
// every visible piece of text. Screenshots go to out/.
func TestPages(t *testing.T) {
	g := newGateway(t)
	browser := startBrowser(t)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}

	// The kind each upstream's failure is classified as, proving that the
	// gateway served a real failure and not a status.
	kinds := map[int]string{
		502: "connection_refused",
		503: "destination_unavailable",
		504: "http_response_timeout",
	}
	var views []view
	for _, status := range []int{502, 503, 504} {
		for _, lang := range []string{"en", "ar"} {
			for _, width := range []int64{375, 1280} {
				for _, dark := range []bool{false, true} {
					views = append(views, view{status: status, lang: lang, width: width, dark: dark})
				}
			}
		}
	}
	// Once with reduced motion, which changes nothing: there is no
	// animation either way.
	views = append(views, view{status: 502, lang: "en", width: 1280, reducedMotion: true})

	for _, v := range views {
		t.Run(v.name(), func(t *testing.T) {
			url := g.URL + "/" + strconv.Itoa(v.status)
			scale := 1.0
			if v.width < 600 {
				scale = 2 // a phone's density, for crisp screenshots
			}
			got, err := visitPage(browser, url, v, scale)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outDir, v.name()+".png"), got.png, 0o644); err != nil {
				t.Error(err)
			}
			for _, f := range checkVisit(g, url, v, got) {
				t.Error(f)
			}
			low := lowestContrast(got.audit)
			t.Logf("%d text elements; lowest contrast %.2f:1 (need %.1f:1) for <%s> %q", len(got.audit.Texts), low.Ratio, low.Need, low.Tag, low.Text)
			if kind := g.lastSeen("/" + strconv.Itoa(v.status)).Kind; kind != kinds[v.status] {
				t.Errorf("the gateway classified the upstream's failure as %q, want %q", kind, kinds[v.status])
			}
		})
	}
}

// checkVisit returns every way in which got falls short of what a page
// must be in the browser; none for a good page.
func checkVisit(g *gateway, url string, v view, got visit) []string {
	var fails []string
	failf := func(format string, args ...any) { fails = append(fails, fmt.Sprintf(format, args...)) }
	a := got.audit
	path := url[len(g.URL):]

	if got.status != int64(v.status) {
		failf("HTTP status = %d, want %d", got.status, v.status)
	}
	seen := g.lastSeen(path)
	if seen.AcceptLanguage != v.lang {
		failf("the browser sent Accept-Language %q, want %q", seen.AcceptLanguage, v.lang)
	}
	if !strings.Contains(seen.Accept, "text/html") {
		failf("the browser sent Accept %q, want a browser's, with text/html", seen.Accept)
	}

	// The branded page, not a browser's or a bare one.
	if status := strconv.Itoa(v.status); !strings.HasPrefix(a.Code, status) || !strings.HasPrefix(a.Title, status) {
		failf("status line %q and title %q do not show the status %s", a.Code, a.Title, status)
	}
	if a.H1 == "" {
		failf("the page has no <h1> with text")
	}
	wantDir := "ltr"
	if v.lang == "ar" {
		wantDir = "rtl"
	}
	if diff := cmp.Diff([2]string{v.lang, wantDir}, [2]string{a.Lang, a.Dir}); diff != "" {
		failf("<html> lang and dir (-want +got):\n%s", diff)
	}

	// No horizontal scroll: the layout viewport is the device's width and
	// nothing is wider.
	if a.InnerWidth != v.width || a.ScrollWidth > a.InnerWidth {
		failf("horizontal scroll: scrollWidth %d, innerWidth %d, viewport %d", a.ScrollWidth, a.InnerWidth, v.width)
	}

	// Readable at load, as a monitor's screenshot catches it: no
	// animation, whatever the motion preference.
	if a.Animation != "none" || a.AtLoad != 0 {
		failf("<main>'s animation-name = %q, %d animations at load; want none, so that a screenshot at load is readable", a.Animation, a.AtLoad)
	}

	if len(got.problems) > 0 {
		failf("console errors, exceptions or error log entries:\n%s", strings.Join(got.problems, "\n"))
	}
	if diff := cmp.Diff([]string{url}, got.requests); diff != "" {
		failf("requests besides the page itself (-want +got):\n%s", diff)
	}

	// At least the status line, the headline, the lead and the reference
	// must have been measured, or the audit measured nothing.
	if len(a.Texts) < 4 {
		failf("contrast measured on %d elements, want at least 4: %+v", len(a.Texts), a.Texts)
	}
	for _, c := range a.Texts {
		if c.Ratio < c.Need {
			failf("contrast %.2f:1 < %.1f:1 for <%s> %q (%s on %s, %.1fpx)", c.Ratio, c.Need, c.Tag, c.Text, c.FG, c.BG, c.Size)
		}
	}
	return fails
}

// lowestContrast returns the text whose contrast is closest to its minimum.
func lowestContrast(a audit) textCheck {
	lowest := textCheck{Ratio: 100, Need: 1}
	for _, c := range a.Texts {
		if c.Ratio/c.Need < lowest.Ratio/lowest.Need {
			lowest = c
		}
	}
	return lowest
}

// TestChecksCatchFaults runs checkVisit on a page that has every fault it
// looks for, so that a check that can no longer fail does not go unnoticed.
func TestChecksCatchFaults(t *testing.T) {
	g := newGateway(t)
	browser := startBrowser(t)

	v := view{status: 502, lang: "en", width: 375}
	url := g.URL + "/broken"
	got, err := visitPage(browser, url, v, 1)
	if err != nil {
		t.Fatal(err)
	}
	fails := checkVisit(g, url, v, got)
	for _, want := range []string{
		"status line",
		"no <h1>",
		"lang and dir",
		"horizontal scroll",
		"animation-name",
		"console.error",
		"exception",
		"requests besides the page itself",
		"missing.png",
		"contrast 1.",
		"contrast measured on 2 elements",
	} {
		found := false
		for _, f := range fails {
			found = found || strings.Contains(f, want)
		}
		if !found {
			t.Errorf("no failure mentions %q; failures:\n%s", want, strings.Join(fails, "\n"))
		}
	}
}
