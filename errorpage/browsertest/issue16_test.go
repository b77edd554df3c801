package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestMaintenancePage renders the maintenance page of a NewReverseProxy
// whose Maintenance is on, at a phone's and a desktop's width, light and
// dark, in English and Arabic: a 503 that says the service is under
// maintenance, with no hop marked as an error, and passes every check of
// TestPages.
func TestMaintenancePage(t *testing.T) {
	g := newGateway(t)
	browser := startBrowser(t)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{ // language → the headline, the service's state
		"en": {"Down for maintenance", "Under maintenance"},
		"ar": {"الخدمة قيد الصيانة", "قيد الصيانة"},
	}
	for _, lang := range []string{"en", "ar"} {
		for _, width := range []int64{375, 1280} {
			for _, dark := range []bool{false, true} {
				v := view{status: 503, lang: lang, width: width, dark: dark}
				t.Run(v.name(), func(t *testing.T) {
					url := g.URL + "/maintenance"
					got, err := visitPage(browser, url, v, 1)
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(outDir, "maintenance-"+v.name()+".png"), got.png, 0o644); err != nil {
						t.Error(err)
					}
					for _, f := range checkVisit(g, url, v, got) {
						t.Error(f)
					}
					if got.audit.H1 != want[lang][0] || !strings.Contains(got.audit.Body, want[lang][1]) {
						t.Errorf("headline %q, want %q, and a service %q in:\n%s", got.audit.H1, want[lang][0], want[lang][1], got.audit.Body)
					}
					for _, bad := range []string{"Error", "خطأ", "✕"} {
						if strings.Contains(got.audit.Body, bad) {
							t.Errorf("the maintenance page shows %q:\n%s", bad, got.audit.Body)
						}
					}
					// Ten minutes is beyond the refresh limit: no refresh.
					if got.audit.Refresh != "" {
						t.Errorf("meta refresh %q, want none ten minutes ahead", got.audit.Refresh)
					}
				})
			}
		}
	}
}

// statedTime finds the "HH:MM:SS UTC" a page states.
var statedTime = regexp.MustCompile(`(\d\d):(\d\d):(\d\d) UTC`)

// TestSelfRefresh loads a 503 page whose retry time is 2 seconds ahead and
// checks, in the browser, that it says when it will try again, and that it
// does reload by itself then (not before the moment it states), with no
// script: the gateway's second request comes from the meta refresh.
func TestSelfRefresh(t *testing.T) {
	g := newGateway(t)
	browser := startBrowser(t)

	ctx, cancel := context.WithTimeout(browser, pageTimeout)
	defer cancel()
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	if err := chromedp.Do(tab, emulate(view{lang: "en", width: 1280}, 1)); err != nil {
		t.Fatal(err)
	}
	resp, err := chromedp.Run(tab, chromedp.NavigateResponse(g.URL+"/refresh"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 503 {
		t.Fatalf("first load: status %d, want 503", resp.Status)
	}
	a, err := chromedp.Run(tab, chromedp.Evaluate[audit](auditJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if a.Refresh == "" || !strings.Contains(a.Body, "This page will try again by itself at") {
		t.Fatalf("meta refresh %q; the page does not say it will try again:\n%s", a.Refresh, a.Body)
	}
	m := statedTime.FindStringSubmatch(a.Body)
	if m == nil {
		t.Fatalf("the page states no time:\n%s", a.Body)
	}

	// The browser reloads by itself: wait until the gateway sees the
	// second request (a poll in the page would lose its context to the
	// navigation), then for the service's own page in the tab.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if hits, _ := g.refreshHits(); len(hits) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The tab swaps its page, and the context scripts run in, as the
	// reload lands: an evaluation may fail on the old one, so it is
	// retried until the service's page is there.
	title := ""
	for time.Now().Before(deadline) {
		got, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.readyState === "complete" ? document.title : ""`))
		if title = got; err == nil && title == "back" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if title != "back" {
		t.Fatalf("the page did not reload by itself into the service's page (title %q)", title)
	}
	hits, first := g.refreshHits()
	if len(hits) != 2 {
		t.Fatalf("the gateway saw %d requests, want 2 (the page, then its refresh)", len(hits))
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	sec, _ := strconv.Atoi(m[3])
	y, mo, d := first.UTC().Date()
	stated := time.Date(y, mo, d, h, mi, sec, 0, time.UTC)
	if stated.Before(first) || stated.After(first.Add(refreshAfter+time.Second)) {
		t.Errorf("the page states %s for a retry %v after %s", stated.Format(time.TimeOnly), refreshAfter, first.UTC().Format(time.StampMilli))
	}
	if hits[1].Before(stated) {
		t.Errorf("the page reloaded at %s, before the %s it stated", hits[1].UTC().Format(time.StampMilli), stated.Format(time.TimeOnly))
	}
	t.Logf("page at %s states %s; reloaded at %s", first.UTC().Format(time.StampMilli), stated.Format(time.TimeOnly), hits[1].UTC().Format(time.StampMilli))
}

// TestDarkAccent renders a page of a brand whose accent is a dark red in
// dark mode: the accent is the brand's (a lighter red that reads on the
// dark background), not the default blue.
func TestDarkAccent(t *testing.T) {
	g := newGateway(t)
	browser := startBrowser(t)
	for _, dark := range []bool{false, true} {
		v := view{status: 502, lang: "en", width: 1280, dark: dark}
		t.Run(v.name(), func(t *testing.T) {
			url := g.URL + "/brand"
			got, err := visitPage(browser, url, v, 1)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outDir, "brand-"+v.name()+".png"), got.png, 0o644); err != nil {
				t.Error(err)
			}
			for _, f := range checkVisit(g, url, v, got) {
				t.Error(f)
			}
			var code *textCheck
			for i, c := range got.audit.Texts {
				if c.Tag == "p.code" {
					code = &got.audit.Texts[i]
				}
			}
			if code == nil {
				t.Fatalf("no status line measured: %+v", got.audit.Texts)
			}
			var r, gr, b int
			if _, err := fmt.Sscanf(code.FG, "#%02x%02x%02x", &r, &gr, &b); err != nil {
				t.Fatalf("status line colour %q: %v", code.FG, err)
			}
			if !dark && code.FG != brandAccent {
				t.Errorf("light mode: accent %s, want the brand's %s", code.FG, brandAccent)
			}
			if r <= gr || r <= b {
				t.Errorf("accent %s is not the brand's red", code.FG)
			}
			t.Logf("accent %s on %s: %.2f:1", code.FG, code.BG, code.Ratio)
		})
	}
}
