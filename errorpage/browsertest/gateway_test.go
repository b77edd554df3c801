package browsertest

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
	"github.com/gatehouse-go/gatehouse/middleware"
)

// stallTimeout is how long the gateway waits for the upstream that never
// answers before it gives up and serves a 504.
const stallTimeout = 200 * time.Millisecond

// A gateway is a small real gateway on 127.0.0.1: each path forwards to an
// upstream that fails in its own way, and the failure, classified by
// gatewayerr, is served by errorpage.Default:
//
//	/502   an upstream whose port is closed (connection_refused)
//	/503   an upstream answering 503 with Retry-After: 120
//	/504   an upstream that never answers, given up after stallTimeout
//	/bare  a plain httputil.ReverseProxy to the closed port: Go's default
//	       ErrorHandler, an empty 502, the "before" picture
//	/broken  a 502 page with every fault the checks look for, to prove
//	       that they can fail
//	/maintenance  middleware.NewReverseProxy to a working upstream, with
//	       maintenance on for ten more minutes: the 503 maintenance page
//	/brand the 502 of /502 with a brand whose accent is a dark red
//	/refresh  the first request gets a 503 page retrying after
//	       refreshAfter, which refreshes itself; later ones get 200
type gateway struct {
	*httptest.Server

	mu       sync.Mutex
	seen     map[string]seenRequest // by path, the last request
	hits     []time.Time            // when /refresh was requested, in order
	firstNow time.Time              // the time its first page was rendered for
}

// refreshAfter is the Retry-After of /refresh's first answer.
const refreshAfter = 2 * time.Second

// brandAccent is the accent of /brand's brand: a dark red that has AA
// contrast on the light background, not on the dark one.
const brandAccent = "#b00020"

// seenRequest is what the gateway saw of a request and what it served.
type seenRequest struct {
	Accept, AcceptLanguage string
	Kind                   string // the classified failure's RFC 9209 token
}

// newGateway starts a gateway and its upstreams; the test's cleanup stops
// them all.
func newGateway(t *testing.T) *gateway {
	t.Helper()

	// A port that refuses connections: listen, note the address, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := &url.URL{Scheme: "http", Host: l.Addr().String()}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(unavailable.Close)

	// The stalled upstream holds each request until the gateway hangs up
	// (or the test ends), so that Close never waits on it for long.
	done := make(chan struct{})
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(stalled.Close)
	t.Cleanup(func() { close(done) })

	// The gateway's own transport: no proxy from the environment, and its
	// idle connections closed at the end.
	transport := &http.Transport{Proxy: nil}
	t.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport}

	g := &gateway{seen: make(map[string]seenRequest)}
	forward := func(upstream string, timeout time.Duration) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			var failure *gatewayerr.Error
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, upstream, nil)
			if err != nil {
				failure = gatewayerr.Classify(err)
			} else if resp, err := client.Do(req); err != nil {
				failure = gatewayerr.Classify(err)
			} else {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				failure = gatewayerr.ClassifyResponse(resp)
			}
			kind := ""
			if failure != nil {
				kind = failure.Kind.String()
			}
			g.record(r, kind)
			if failure == nil {
				// Not a failure: the test's status check reports it.
				w.WriteHeader(http.StatusOK)
				return
			}
			errorpage.Default().ServeError(w, r, failure)
		}
	}

	bare := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(refused) },
		Transport: transport,
		ErrorLog:  log.New(io.Discard, "", 0),
	}

	okUpstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	t.Cleanup(okUpstream.Close)
	maint := new(middleware.Maintenance)
	maint.On(time.Now().Add(10 * time.Minute))
	target, _ := url.Parse(okUpstream.URL)
	proxy := middleware.NewReverseProxy(target, middleware.Options{Maintenance: maint, Transport: transport})

	branded, err := errorpage.New(errorpage.Config{Brand: errorpage.Brand{Name: "Acme Cloud", AccentColor: brandAccent}})
	if err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /maintenance", func(w http.ResponseWriter, r *http.Request) {
		g.record(r, "destination_unavailable")
		proxy.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /brand", func(w http.ResponseWriter, r *http.Request) {
		g.record(r, "connection_refused")
		branded.ServeError(w, r, gatewayerr.ConnectionRefused)
	})
	mux.HandleFunc("GET /refresh", func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		g.mu.Lock()
		g.hits = append(g.hits, now)
		first := len(g.hits) == 1
		if first {
			g.firstNow = now
		}
		g.mu.Unlock()
		g.record(r, "destination_unavailable")
		if !first {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = io.WriteString(w, `<!doctype html><html lang=en><title>back</title><main><h1>The service is back</h1></main>`)
			return
		}
		pages, err := errorpage.New(errorpage.Config{Now: func() time.Time { return now }})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		pages.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, RetryAfter: refreshAfter})
	})
	mux.Handle("GET /502", forward(refused.String(), 0))
	mux.Handle("GET /503", forward(unavailable.URL, 0))
	mux.Handle("GET /504", forward(stalled.URL, stallTimeout))
	mux.Handle("GET /bare", bare)
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		g.record(r, "")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, brokenPage)
	})
	g.Server = httptest.NewServer(mux)
	t.Cleanup(g.Close)
	return g
}

// brokenPage has every fault that checkVisit looks for: no status in the
// title, no <h1>, no dir, a fade-in animation, a console error and an exception, a
// second request (a missing image), a block wider than any viewport, grey
// text on white, and too little text to measure.
const brokenPage = `<!doctype html>
<html lang="en"><head><title>oops</title></head>
<body style="margin:0;background:#fff;animation:in 1s"><style>@keyframes in{from{opacity:0}}</style>
<p class="code" style="color:#bbb">502 Bad Gateway</p>
<div style="width:2000px">too wide</div>
<img src="/missing.png" alt="">
<script>console.error("boom"); throw new Error("bang");</script>
</body></html>
`

// record notes the request r and the kind of failure served for it.
func (g *gateway) record(r *http.Request, kind string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seen[r.URL.Path] = seenRequest{
		Accept:         r.Header.Get("Accept"),
		AcceptLanguage: r.Header.Get("Accept-Language"),
		Kind:           kind,
	}
}

// lastSeen returns what the gateway saw of the last request for path.
func (g *gateway) lastSeen(path string) seenRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seen[path]
}

// refreshHits returns when /refresh was requested, and the time its first
// page was rendered for.
func (g *gateway) refreshHits() ([]time.Time, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]time.Time(nil), g.hits...), g.firstNow
}
