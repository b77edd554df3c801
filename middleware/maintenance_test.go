package middleware

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

func TestMaintenanceSwitch(t *testing.T) {
	now := time.Now()
	hour := now.Add(time.Hour)
	tests := []struct {
		name   string
		set    func(m *Maintenance)
		at     time.Time
		on     bool
		until  time.Time
		closed bool // a nil *Maintenance
	}{
		{name: "zero value", set: func(*Maintenance) {}, at: now},
		{name: "nil", closed: true, at: now},
		{name: "on, end unknown", set: func(m *Maintenance) { m.On(time.Time{}) }, at: now.Add(24 * time.Hour), on: true},
		{name: "on until", set: func(m *Maintenance) { m.On(hour) }, at: now.Add(time.Minute), on: true, until: hour},
		{name: "on until, after the end", set: func(m *Maintenance) { m.On(hour) }, at: hour},
		{name: "on with an end passed", set: func(m *Maintenance) { m.On(now.Add(-time.Second)) }, at: now},
		{name: "off", set: func(m *Maintenance) { m.On(time.Time{}); m.Off() }, at: now},
		{name: "window ahead, before", set: func(m *Maintenance) { m.Schedule(now.Add(time.Minute), hour) }, at: now},
		{name: "window ahead, within", set: func(m *Maintenance) { m.Schedule(now.Add(time.Minute), hour) }, at: now.Add(2 * time.Minute), on: true, until: hour},
		{name: "window ahead, after", set: func(m *Maintenance) { m.Schedule(now.Add(time.Minute), hour) }, at: hour.Add(time.Second)},
		{name: "window without end", set: func(m *Maintenance) { m.Schedule(now.Add(time.Minute), time.Time{}) }, at: now.Add(48 * time.Hour), on: true},
		{name: "window backwards", set: func(m *Maintenance) { m.Schedule(hour, now.Add(time.Minute)) }, at: now.Add(30 * time.Minute)},
		{name: "window over", set: func(m *Maintenance) { m.Schedule(now.Add(-time.Hour), now.Add(-time.Minute)) }, at: now.Add(-30 * time.Minute)},
		{name: "schedule replaces on", set: func(m *Maintenance) { m.On(time.Time{}); m.Schedule(hour, hour.Add(time.Hour)) }, at: now},
		{name: "off cancels a window", set: func(m *Maintenance) { m.Schedule(now.Add(time.Minute), hour); m.Off() }, at: now.Add(2 * time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m *Maintenance
			if !tt.closed {
				m = new(Maintenance)
				tt.set(m)
			}
			on, until := m.Active(tt.at)
			if on != tt.on || !until.Equal(tt.until) {
				t.Errorf("Active = %v, %v; want %v, %v", on, until, tt.on, tt.until)
			}
		})
	}
}

func TestMaintenanceAllow(t *testing.T) {
	m := &Maintenance{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32"), netip.MustParsePrefix("fd00::/8")}}
	for addr, want := range map[string]bool{
		"127.0.0.2:5000":          true,
		"[::ffff:127.0.0.2]:5000": true,
		"127.0.0.1:5000":          false,
		"[fd00::1]:443":           true,
		"[fe80::1]:443":           false,
		"127.0.0.2":               true, // no port, as some servers give
		"garbage":                 false,
		"":                        false,
	} {
		if got := m.allowed(&http.Request{RemoteAddr: addr}); got != want {
			t.Errorf("allowed(%q) = %v, want %v", addr, got, want)
		}
	}
	if (&Maintenance{}).allowed(&http.Request{RemoteAddr: "127.0.0.1:1"}) {
		t.Error("an empty Allow lets a request through")
	}
}

// TestMaintenanceAllowRequest lets the team through by a cookie, over a
// real socket, while everyone else gets the page.
func TestMaintenanceAllowRequest(t *testing.T) {
	m := &Maintenance{AllowRequest: func(r *http.Request) bool {
		c, err := r.Cookie("team")
		return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte("s3cret")) == 1
	}}
	m.On(time.Time{})
	fronts, hits := maintenanceFronts(t, Options{Maintenance: m})
	for name, srv := range fronts {
		before := hits.Load()
		for cookie, want := range map[string]int{"": 503, "team=wrong": 503, "team=s3cret": 200} {
			req := newRequest(t, "GET", srv.URL, nil)
			if cookie != "" {
				req.Header.Set("Cookie", cookie)
			}
			if resp, _ := send(t, nil, req); resp.StatusCode != want {
				t.Errorf("%s, cookie %q: status %d, want %d", name, cookie, resp.StatusCode, want)
			}
		}
		if n := hits.Load() - before; n != 1 {
			t.Errorf("%s: %d requests reached the upstream, want the team's 1", name, n)
		}
	}
}

// maintenanceFronts returns, by name, a server in front of an upstream
// that counts its requests: NewReverseProxy, and Handler around a handler.
func maintenanceFronts(t *testing.T, opts Options) (map[string]*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("hello from upstream"))
	}))
	t.Cleanup(upstream.Close)
	handler := httptest.NewServer(Handler(opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("hello from upstream"))
	})))
	t.Cleanup(handler.Close)
	return map[string]*httptest.Server{"proxy": gateway(t, upstream.URL, opts), "handler": handler}, &hits
}

func TestMaintenanceServes(t *testing.T) {
	m := &Maintenance{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}
	fronts, hits := maintenanceFronts(t, Options{
		Maintenance:        m,
		ProxyName:          "edge",
		ProxyStatusDetails: func(r *http.Request) bool { return r.Header.Get("X-Debug") == "1" },
	})
	visitor, team := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	for name, srv := range fronts {
		t.Run(name, func(t *testing.T) {
			m.Off()
			resp, body := get(t, visitor, srv.URL+"/a", "")
			if resp.StatusCode != 200 || body != "hello from upstream" {
				t.Fatalf("off: %d %q", resp.StatusCode, body)
			}

			m.On(time.Now().Add(90 * time.Minute))
			before := hits.Load()
			for _, tc := range []struct{ method, accept, ctype, want string }{
				{"GET", "text/html", "text/html", "Down for maintenance"},
				{"GET", "application/json", "application/json", `"kind":"destination_unavailable"`},
				{"GET", "application/problem+json", "application/problem+json", `"status":503`},
				{"GET", "text/plain", "text/plain", "Down for maintenance"},
				{"POST", "", "text/html", "Down for maintenance"},
				{"HEAD", "", "text/html", ""},
			} {
				req := newRequest(t, tc.method, srv.URL+"/a", strings.NewReader("x"))
				if tc.method != "POST" {
					req = newRequest(t, tc.method, srv.URL+"/a", nil)
				}
				if tc.accept != "" {
					req.Header.Set("Accept", tc.accept)
				}
				resp, body := send(t, visitor, req)
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Fatalf("%s %s: status %d, want 503", tc.method, tc.accept, resp.StatusCode)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
					t.Errorf("%s %s: Content-Type %q, want %s", tc.method, tc.accept, ct, tc.ctype)
				}
				if !strings.Contains(body, tc.want) {
					t.Errorf("%s %s: body lacks %q:\n%s", tc.method, tc.accept, tc.want, body)
				}
				if got := resp.Header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control = %q", got)
				}
				ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
				if err != nil || ra < 89*60 || ra > 90*60 {
					t.Errorf("Retry-After = %q, want about 5400", resp.Header.Get("Retry-After"))
				}
				ps := lastProxyStatus(t, resp.Header)
				if ps.Proxy != "edge" || ps.Kind != gatewayerr.DestinationUnavailable || ps.Details != "" {
					t.Errorf("Proxy-Status = %+v", ps)
				}
			}
			if n := hits.Load() - before; n != 0 {
				t.Errorf("%d requests reached the upstream during maintenance", n)
			}

			// Details when allowed.
			req := newRequest(t, "GET", srv.URL+"/a", nil)
			req.Header.Set("X-Debug", "1")
			resp, _ = send(t, visitor, req)
			if ps := lastProxyStatus(t, resp.Header); ps.Details != "maintenance" {
				t.Errorf("with details: Proxy-Status = %+v", ps)
			}

			// The team's address passes.
			resp, body = get(t, team, srv.URL+"/a", "")
			if resp.StatusCode != 200 || body != "hello from upstream" {
				t.Errorf("from 127.0.0.2: %d %q", resp.StatusCode, body)
			}

			// No end known: no Retry-After.
			m.On(time.Time{})
			resp, _ = get(t, visitor, srv.URL+"/a", "")
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "" {
				t.Errorf("end unknown: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
			}

			// A window ahead does not hold requests back yet.
			m.Schedule(time.Now().Add(time.Hour), time.Now().Add(2*time.Hour))
			resp, _ = get(t, visitor, srv.URL+"/a", "")
			if resp.StatusCode != 200 {
				t.Errorf("before the window: %d", resp.StatusCode)
			}
			// A window that is on.
			m.Schedule(time.Now().Add(-time.Minute), time.Now().Add(time.Hour))
			resp, _ = get(t, visitor, srv.URL+"/a", "")
			if resp.StatusCode != 503 {
				t.Errorf("within the window: %d", resp.StatusCode)
			}
			m.Off()
			resp, _ = get(t, visitor, srv.URL+"/a", "")
			if resp.StatusCode != 200 {
				t.Errorf("after Off: %d", resp.StatusCode)
			}
		})
	}
}

// TestMaintenanceNotReported checks that a request held back is not a
// failure: OnError is not called.
func TestMaintenanceNotReported(t *testing.T) {
	m := new(Maintenance)
	m.On(time.Time{})
	var reports atomic.Int64
	fronts, _ := maintenanceFronts(t, Options{Maintenance: m, OnError: func(*http.Request, *gatewayerr.Error) { reports.Add(1) }})
	for name, srv := range fronts {
		resp, _ := get(t, nil, srv.URL, "")
		if resp.StatusCode != 503 {
			t.Errorf("%s: status %d", name, resp.StatusCode)
		}
	}
	if n := reports.Load(); n != 0 {
		t.Errorf("OnError called %d times", n)
	}
}

// TestMaintenanceConcurrentToggling switches maintenance on and off while
// requests flow: every response is the upstream's or the maintenance page
// (run with -race).
func TestMaintenanceConcurrentToggling(t *testing.T) {
	m := new(Maintenance)
	fronts, _ := maintenanceFronts(t, Options{Maintenance: m})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	toggling, stop := context.WithCancel(ctx)
	var toggler, wg sync.WaitGroup
	toggler.Add(1)
	go func() {
		defer toggler.Done()
		for i := 0; toggling.Err() == nil; i++ {
			switch i % 3 {
			case 0:
				m.On(time.Now().Add(time.Minute))
			case 1:
				m.Schedule(time.Time{}, time.Time{})
			default:
				m.Off()
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	var codes sync.Map
	for _, srv := range fronts {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &http.Client{Transport: &http.Transport{Proxy: nil}}
				defer c.CloseIdleConnections()
				for range 50 {
					if ctx.Err() != nil {
						return
					}
					req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
					resp, err := c.Do(req)
					if err != nil {
						continue // the deadline
					}
					resp.Body.Close()
					codes.Store(resp.StatusCode, true)
				}
			}()
		}
	}
	wg.Wait()
	stop()
	toggler.Wait()
	codes.Range(func(k, _ any) bool {
		if c := k.(int); c != 200 && c != 503 {
			t.Errorf("status %d while toggling", c)
		}
		return true
	})
}

func TestErrMaintenancePage(t *testing.T) {
	// The page says maintenance, and does not say the service failed.
	p, err := errorpage.New(errorpage.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	p.ServeError(rec, httptest.NewRequest("GET", "/", nil), &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, Err: errorpage.ErrMaintenance})
	if body := rec.Body.String(); !strings.Contains(body, "Down for maintenance") {
		t.Errorf("page:\n%s", body)
	}
}

// TestMaintenanceSuccessPathDoesNotAllocate checks that a Maintenance that
// is off, or on with the request allowed through, adds no allocation to
// Handler's success path (whose own is its per-request writer).
func TestMaintenanceSuccessPathDoesNotAllocate(t *testing.T) {
	hello := []byte("hello")
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write(hello)
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "127.0.0.2:5000"
	off := new(Maintenance)
	allowed := &Maintenance{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	allowed.On(time.Time{})
	allocs := func(m *Maintenance) float64 {
		h := Handler(Options{Maintenance: m})(app)
		w := &discardWriter{h: http.Header{}}
		return testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) })
	}
	want := allocs(nil)
	for name, m := range map[string]*Maintenance{"off": off, "on, allowed": allowed} {
		if n := allocs(m); n != want {
			t.Errorf("%s: %v allocations per request, want %v as without Maintenance", name, n, want)
		}
	}
}
