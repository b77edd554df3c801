package middleware

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
)

// TestProxyRecyclesOnlyUnseenRequests checks when serveError recycles the
// visitor's request it makes: only when no hook of the user's can receive
// it.
func TestProxyRecyclesOnlyUnseenRequests(t *testing.T) {
	custom, err := errorpage.New(errorpage.Config{})
	if err != nil {
		t.Fatal(err)
	}
	onError := func(*http.Request, *gatewayerr.Error) {}
	for _, tt := range []struct {
		name string
		opts Options
		want bool
	}{
		{"zero", Options{}, true},
		{"logger", Options{Logger: slog.New(slog.DiscardHandler)}, true}, // a handler gets the context and strings
		{"default pages", Options{Pages: errorpage.Default()}, true},
		{"OnAttempt", Options{OnAttempt: func(Attempt) {}}, true}, // gets the outgoing request, not the copy
		{"OnError", Options{OnError: onError}, false},
		{"OnReplace", Options{OnReplace: onError}, false},
		{"ProxyStatusDetails", Options{ProxyStatusDetails: func(*http.Request) bool { return false }}, false},
		{"own pages", Options{Pages: custom}, false}, // may have Debug, RequestID or OnServe
	} {
		if got := newProxy(&tt.opts).recycle; got != tt.want {
			t.Errorf("%s: recycle = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestReverseProxyHooksKeepTheirRequest checks that a request handed to a
// hook is the hook's to keep: later failures do not reuse it.
func TestReverseProxyHooksKeepTheirRequest(t *testing.T) {
	type kept struct {
		mu sync.Mutex
		r  *http.Request
	}
	keep := func(k *kept, r *http.Request) {
		k.mu.Lock()
		defer k.mu.Unlock()
		// The visitor's request, not the outgoing one that the proxy's
		// Transport asks ProxyStatusDetails and Debug about.
		if k.r == nil && r.URL != nil && r.URL.Host == "" {
			k.r = r
		}
	}
	pagesWith := func(t *testing.T, cfg errorpage.Config) *errorpage.Pages {
		t.Helper()
		p, err := errorpage.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tt := range []struct {
		name string
		opts func(t *testing.T, k *kept) Options
	}{
		{"OnError", func(_ *testing.T, k *kept) Options {
			return Options{OnError: func(r *http.Request, _ *gatewayerr.Error) { keep(k, r) }}
		}},
		{"ProxyStatusDetails", func(_ *testing.T, k *kept) Options {
			return Options{ProxyStatusDetails: func(r *http.Request) bool { keep(k, r); return false }}
		}},
		{"Pages.Debug", func(t *testing.T, k *kept) Options {
			return Options{Pages: pagesWith(t, errorpage.Config{Debug: func(r *http.Request) bool { keep(k, r); return false }})}
		}},
		{"Pages.RequestID", func(t *testing.T, k *kept) Options {
			return Options{Pages: pagesWith(t, errorpage.Config{RequestID: func(r *http.Request) string { keep(k, r); return "" }})}
		}},
		{"Pages.OnServe", func(t *testing.T, k *kept) Options {
			return Options{Pages: pagesWith(t, errorpage.Config{OnServe: func(p errorpage.ServedPage) { keep(k, p.Request) }})}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dead := faulttest.Refused(t)
			var k kept
			opts := tt.opts(t, &k)
			opts.Transport = dead.Transport()
			gw := gateway(t, dead.URL, opts)
			for i := range 4 {
				req := newRequest(t, http.MethodGet, fmt.Sprintf("%s/page/%d", gw.URL, i), nil)
				req.Host = fmt.Sprintf("site%d.example", i)
				if resp, _ := send(t, nil, req); resp.StatusCode != http.StatusBadGateway {
					t.Fatalf("request %d: status %d, want 502", i, resp.StatusCode)
				}
			}
			k.mu.Lock()
			defer k.mu.Unlock()
			if k.r == nil {
				t.Fatal("the hook got no request")
			}
			if k.r.Host != "site0.example" || k.r.URL == nil || k.r.URL.Path != "/page/0" {
				t.Errorf("the request the hook kept now says Host %q, URL %v; want site0.example, /page/0", k.r.Host, k.r.URL)
			}
		})
	}
}

// TestReverseProxyRecycledRequestsDoNotMix checks that a proxy that
// recycles the visitor's requests describes each request on its own page
// and in its own record, however many fail at once.
func TestReverseProxyRecycledRequestsDoNotMix(t *testing.T) {
	dead := faulttest.Refused(t)
	var log capturedLog
	gw := gateway(t, dead.URL+"/base", Options{Transport: dead.Transport(), Logger: log.logger()})
	c := client(t)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		req := newRequest(t, http.MethodGet, fmt.Sprintf("%s/item/%d?q=%d", gw.URL, i, i), nil)
		req.Host = fmt.Sprintf("site%d.example", i)
		req.Header.Set("Accept", "application/problem+json")
		wg.Go(func() {
			resp, err := c.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var doc struct{ Instance string }
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				errs <- fmt.Errorf("request %d: %v", i, err)
				return
			}
			if want := fmt.Sprintf("/item/%d", i); resp.StatusCode != http.StatusBadGateway || doc.Instance != want {
				errs <- fmt.Errorf("request %d: got %d, instance %q; want 502, %q", i, resp.StatusCode, doc.Instance, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for _, r := range log.records(t, "gatehouse: upstream failure") {
		path, _ := r["path"].(string)
		if seen[path] {
			t.Errorf("path %q logged twice", path)
		}
		seen[path] = true
	}
	for i := range n {
		if p := fmt.Sprintf("/item/%d", i); !seen[p] {
			t.Errorf("no record for %s", p)
		}
	}
}
