package faulttest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		name   string
		code   int
		header http.Header
		body   string
	}{
		{"502 with Proxy-Status chain", 502, http.Header{"Proxy-Status": {`origin-lb; error=connection_refused, edge; received-status=502`}}, "bad gateway"},
		{"503 Retry-After seconds", 503, http.Header{"Retry-After": {"120"}}, "down for maintenance"},
		{"503 Retry-After date", 503, http.Header{"Retry-After": {"Fri, 31 Dec 2100 23:59:59 GMT"}}, ""},
		{"504", 504, nil, "gateway timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Status(t, tt.code, tt.header, tt.body)
			tr := s.Transport()
			got := roundTrip(t, tr, s.URL, strings.NewReader("request body"), 3*time.Second)
			want := result{status: tt.code, body: tt.body}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(result{}), cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
			// The headers themselves.
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodHead, s.URL, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for k, v := range tt.header {
				if diff := cmp.Diff(v, resp.Header.Values(k)); diff != "" {
					t.Errorf("header %s mismatch (-want +got):\n%s", k, diff)
				}
			}
			if got := s.Requests(); got != 2 {
				t.Errorf("Requests() = %d, want 2", got)
			}
		})
	}
}

func TestLoop(t *testing.T) {
	t.Run("forwards with Via", func(t *testing.T) {
		origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Join(r.Header.Values("Via"), "|")))
		}))
		defer origin.Close()
		defer origin.Client().CloseIdleConnections()
		s := Loop(t, origin.URL, "fault-loop")
		got := roundTrip(t, s.Transport(), s.URL, nil, 3*time.Second)
		want := result{status: http.StatusOK, body: "1.1 fault-loop"}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(result{}), cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
			t.Errorf("round trip mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("ends an undetected loop", func(t *testing.T) {
		// A gateway that does not detect loops, forwarding to the Loop
		// server, which forwards back to it.
		var target *url.URL
		gwTransport := &http.Transport{Proxy: nil}
		defer gwTransport.CloseIdleConnections()
		gw := httptest.NewServer(&httputil.ReverseProxy{
			Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
			Transport: gwTransport,
		})
		defer gw.Close()
		s := Loop(t, gw.URL, "fault-loop")
		target, _ = url.Parse(s.URL)
		got := roundTrip(t, s.Transport(), gw.URL, nil, 5*time.Second)
		if got.rtErr != nil || got.status != http.StatusLoopDetected {
			t.Fatalf("got %+v, want 508", got)
		}
		if n := s.Requests(); n != MaxLoopHops+1 {
			t.Errorf("Requests() = %d, want %d", n, MaxLoopHops+1)
		}
	})
}

func TestViaCount(t *testing.T) {
	tests := []struct {
		values []string
		want   int
	}{
		{nil, 0},
		{[]string{"1.1 a"}, 1},
		{[]string{"1.1 a, 1.0 b (comment), HTTP/2 a"}, 2},
		{[]string{"1.1 a", "1.1 a , 1.1 ab"}, 2},
		{[]string{"a"}, 0},
	}
	for _, tt := range tests {
		if got := viaCount(tt.values, "a"); got != tt.want {
			t.Errorf("viaCount(%q) = %d, want %d", tt.values, got, tt.want)
		}
	}
}

func TestUpstreamGateway(t *testing.T) {
	tests := []struct {
		name        string
		behind      func(testing.TB) *Server
		status      int
		proxyStatus string
	}{
		{"refused", Refused, http.StatusBadGateway, "upstream-gateway;error=connection_refused"},
		{"reset", ResetBeforeHeaders, http.StatusBadGateway, "upstream-gateway;error=connection_terminated"},
		{"healthy", func(t testing.TB) *Server { return Status(t, http.StatusOK, nil, "ok") }, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := UpstreamGateway(t, tt.behind(t).URL)
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := s.Transport().RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("Proxy-Status") != tt.proxyStatus {
				t.Errorf("got %d with Proxy-Status %q, want %d with %q", resp.StatusCode, resp.Header.Get("Proxy-Status"), tt.status, tt.proxyStatus)
			}
		})
	}
}
