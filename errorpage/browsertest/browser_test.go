package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Time bounds. A whole test, browser start included, must end within
// testTimeout; one page (load, audit, screenshot) within pageTimeout.
const (
	testTimeout = 90 * time.Second
	pageTimeout = 20 * time.Second
)

// auditJS measures a loaded page; see testdata/audit.js.
//
//go:embed testdata/audit.js
var auditJS string

// startBrowser starts a headless chromium for the test and returns the
// context of its first tab; [visit] opens a new tab from it for each page.
// The browser and its profile are removed when the test ends.
//
// Without chromium on PATH the test is skipped, unless the environment
// variable CI is "true": CI installs chromium, so there it is a failure.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is not on PATH (%v) and CI=true: the browser test must run in CI; install Debian's chromium (.ci/run does)", err)
		}
		t.Skipf("skipping the real-browser test: chromium is not on PATH (%v); install Debian's chromium to run it (CI=true makes this a failure)", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	// The flags suit a root user in a container with no network: no
	// sandbox (it needs unprivileged user namespaces), no GPU, and nothing
	// that phones home (QUIC probes, component updates, sync, background
	// fetches), so that every request the browser makes is the page's.
	// force-color-profile=srgb keeps screenshot colours exact.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	// Cleanups run last-in first-out: the browser is gone before
	// t.TempDir removes its profile.
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancel()
	})
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return browserCtx
}

// A view is one way of looking at a page: its status, language, viewport
// width, colour scheme and motion preference.
type view struct {
	status        int
	lang          string // Accept-Language sent by the browser
	width         int64  // CSS pixels; 375 is a phone, 1280 a desktop
	dark          bool
	reducedMotion bool
}

// name is the view's screenshot name, such as "502-en-1280-light".
func (v view) name() string {
	scheme := "light"
	if v.dark {
		scheme = "dark"
	}
	name := fmt.Sprintf("%d-%s-%d-%s", v.status, v.lang, v.width, scheme)
	if v.reducedMotion {
		name += "-reduced-motion"
	}
	return name
}

// An audit is what testdata/audit.js reports about a loaded page.
type audit struct {
	Lang        string      `json:"lang"`
	Dir         string      `json:"dir"`
	Title       string      `json:"title"`
	H1          string      `json:"h1"`
	Code        string      `json:"code"`
	ScrollWidth int64       `json:"scrollWidth"`
	InnerWidth  int64       `json:"innerWidth"`
	Animation   string      `json:"animation"`
	AtLoad      int         `json:"animationsAtLoad"` // animations running when the page was shown
	Refresh     string      `json:"refresh"`          // the content of a meta refresh; "" for none
	Body        string      `json:"body"`             // the page's visible text
	Texts       []textCheck `json:"texts"`
}

// A textCheck is the contrast of one visible element holding text.
type textCheck struct {
	Tag   string  `json:"tag"`
	Text  string  `json:"text"`
	Size  float64 `json:"size"`
	Large bool    `json:"large"`
	Need  float64 `json:"need"`
	Ratio float64 `json:"ratio"`
	FG    string  `json:"fg"`
	BG    string  `json:"bg"`
}

// A visit is what the browser saw of one page.
type visit struct {
	status   int64    // the document's HTTP status
	requests []string // the URL of every request the tab sent
	problems []string // console errors, exceptions and error log entries
	audit    audit    // what testdata/audit.js measured
	png      []byte   // full-page screenshot, taken at load
}

// visitPage opens url in a new tab of the browser, emulating v at the given
// device scale factor, and returns what the tab saw: its requests, console
// and log, the audit of the loaded page and a full-page screenshot.
func visitPage(browserCtx context.Context, url string, v view, scale float64) (visit, error) {
	ctx, cancel := context.WithTimeout(browserCtx, pageTimeout)
	defer cancel()
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()

	var (
		mu  sync.Mutex
		got visit
	)
	// Listen sees every event of the tab in order, and before Navigate
	// returns; it runs in the tab's read loop, so it only records.
	err := chromedp.Listen(tab, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			got.requests = append(got.requests, ev.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				got.problems = append(got.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			text := ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil {
				text += " " + ex.Description
			}
			got.problems = append(got.problems, "exception: "+text)
		case *log.EventEntryAdded:
			e := ev.Entry
			// Chromium logs every document served with an error status
			// ("Failed to load resource: the server responded with a
			// status of 502 (Bad Gateway)"): that is the status the page
			// exists to carry, not a fault of the page.
			if e.Level == log.EntryLevelError && !(e.Source == log.EntrySourceNetwork && e.URL == url && strings.Contains(e.Text, fmt.Sprintf("status of %d", v.status))) {
				got.problems = append(got.problems, fmt.Sprintf("log %s %s: %s (%s)", e.Source, e.Level, e.Text, e.URL))
			}
		}
	})
	if err != nil {
		return visit{}, fmt.Errorf("opening a tab: %w", err)
	}

	if err := chromedp.Do(tab, emulate(v, scale)); err != nil {
		return visit{}, err
	}
	resp, err := chromedp.Run(tab, chromedp.NavigateResponse(url))
	if err != nil {
		return visit{}, fmt.Errorf("loading %s: %w", url, err)
	}
	// The screenshot is taken at load, before the audit waits for
	// anything, as a monitor takes it: what it shows is what the audit
	// measures only because the page has no animation, which it checks.
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		return visit{}, fmt.Errorf("screenshot of %s: %w", url, err)
	}
	a, err := chromedp.Run(tab, chromedp.Evaluate[audit](auditJS, chromedp.EvalAwaitPromise))
	if err != nil {
		return visit{}, fmt.Errorf("auditing %s: %w", url, err)
	}

	mu.Lock()
	defer mu.Unlock()
	got.status = resp.Status
	got.audit = a
	got.png = png
	return got, nil
}

// emulate sets the tab's viewport (800 CSS pixels high), colour scheme,
// motion preference and Accept-Language as v says, at the given device
// scale factor. Below 600 pixels wide the tab is a phone: the page's
// viewport meta tag applies, and a page wider than the screen is zoomed
// out, which the width checks see.
func emulate(v view, scale float64) chromedp.Action[chromedp.Void] {
	scheme := "light"
	if v.dark {
		scheme = "dark"
	}
	motion := "no-preference"
	if v.reducedMotion {
		motion = "reduce"
	}
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width:             v.width,
			Height:            800,
			DeviceScaleFactor: scale,
			Mobile:            v.width < 600,
		}); err != nil {
			return fmt.Errorf("viewport: %w", err)
		}
		if _, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{
				{Name: "prefers-color-scheme", Value: scheme},
				{Name: "prefers-reduced-motion", Value: motion},
			},
		}); err != nil {
			return fmt.Errorf("media features: %w", err)
		}
		if _, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Accept-Language": v.lang},
		}); err != nil {
			return fmt.Errorf("Accept-Language: %w", err)
		}
		return nil
	})
}
