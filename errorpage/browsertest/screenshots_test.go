package browsertest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// screenshotDir is where TestScreenshots writes the README's screenshots;
// empty, the default, skips it, so that a normal run never rewrites
// committed files.
var screenshotDir = flag.String("screenshots", "", "write the README's screenshots to this `directory` (such as ../../docs/screenshots)")

// maxScreenshotSize bounds each README screenshot, to keep the repository
// small.
const maxScreenshotSize = 150 << 10

// TestScreenshots writes the README's screenshots, at a device scale
// factor of 1, each taken at load, after checking the pages as TestPages
// does: the 502 page light and dark, the maintenance page on a phone in
// English (light) and Arabic (dark), the 504 page in Arabic:
//
//	go test -count=1 -run TestScreenshots -args -screenshots ../../docs/screenshots
//
// bare-502.png is the "before" picture: what chromium shows for the empty
// 502 of a plain httputil.ReverseProxy whose upstream refuses connections.
func TestScreenshots(t *testing.T) {
	if *screenshotDir == "" {
		t.Skip("skipping: pass -args -screenshots DIR to write the README's screenshots")
	}
	g := newGateway(t)
	browser := startBrowser(t)

	for _, s := range []struct {
		file string
		path string // "" for the view's status
		view view
	}{
		{"502-light.png", "", view{status: 502, lang: "en", width: 1280}},
		{"502-dark.png", "", view{status: 502, lang: "en", width: 1280, dark: true}},
		{"503-mobile.png", "/maintenance", view{status: 503, lang: "en", width: 375}},
		{"503-maintenance-arabic-dark.png", "/maintenance", view{status: 503, lang: "ar", width: 375, dark: true}},
		{"504-arabic.png", "", view{status: 504, lang: "ar", width: 1280}},
	} {
		t.Run(s.file, func(t *testing.T) {
			url := g.URL + "/" + strconv.Itoa(s.view.status)
			if s.path != "" {
				url = g.URL + s.path
			}
			got, err := visitPage(browser, url, s.view, 1)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range checkVisit(g, url, s.view, got) {
				t.Error(f)
			}
			writeScreenshot(t, s.file, got.png)
		})
	}

	t.Run("bare-502.png", func(t *testing.T) {
		png, err := visitBare(browser, g.URL+"/bare")
		if err != nil {
			t.Fatal(err)
		}
		writeScreenshot(t, "bare-502.png", png)
	})
}

// visitBare loads url, the bare proxy's empty 502, in a new tab and returns
// a screenshot of what chromium shows instead: its own error page, since an
// error status with an empty body is a failed load to chromium
// (net::ERR_HTTP_RESPONSE_CODE_FAILURE).
func visitBare(browserCtx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(browserCtx, pageTimeout)
	defer cancel()
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()

	if err := chromedp.Do(tab, emulate(view{lang: "en", width: 1280}, 1)); err != nil {
		return nil, err
	}
	_, err := chromedp.Run(tab, chromedp.NavigateResponse(url))
	var loadErr *chromedp.LoadError
	if !errors.As(err, &loadErr) || loadErr.ErrorText != "net::ERR_HTTP_RESPONSE_CODE_FAILURE" {
		return nil, fmt.Errorf("loading %s: got error %v, want chromium's net::ERR_HTTP_RESPONSE_CODE_FAILURE for an empty error response", url, err)
	}
	// Wait for chromium's error page to replace the failed load.
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`location.protocol === "chrome-error:" && document.readyState === "complete" && document.body !== null && document.body.innerText.includes("502")`)); err != nil {
		return nil, fmt.Errorf("waiting for chromium's error page: %w", err)
	}
	return chromedp.Run(tab, chromedp.FullScreenshot(100))
}

// writeScreenshot writes png to the screenshot directory as name, failing
// the test when it is too large for the README.
func writeScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	if len(png) > maxScreenshotSize {
		t.Errorf("%s is %d KB, want at most %d KB", name, len(png)>>10, maxScreenshotSize>>10)
	}
	if err := os.WriteFile(filepath.Join(*screenshotDir, name), png, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("%s: %d KB", name, len(png)>>10)
}
