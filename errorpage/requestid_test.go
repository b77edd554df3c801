package errorpage

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"abc-123", true},
		{"01HZX3:trace.span_1", true},
		{"Z", true},
		{strings.Repeat("a", 128), true},
		// What request-ID middlewares and tracers produce.
		{"web-7f9c4d-x2k8p/Qm3rT9xZ1a-000001", true},                                         // chi's middleware.RequestID
		{"8f14e45f-ceea-467a-9575-0a2ad1cbe0a3", true},                                       // a UUID: Envoy, gin-contrib/requestid
		{"xQ9mKfW2LzR7TnB4hYc1Vd8JpE5sGa3u", true},                                           // echo's middleware.RequestID
		{"4bf92f3577b34da6a3ce929d0e0e4736", true},                                           // a W3C trace ID
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true},                    // a traceparent
		{"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", true}, // Amazon's X-Amzn-Trace-Id
		{"105445aa7843bc8bf206b12000100000/1;o=1", true},                                     // Google's X-Cloud-Trace-Context
		{strings.Repeat("a", 129), false},
		{"", false},
		{"a b", false},
		{"a,b", false},
		{"a+b", false}, // html/template writes &#43;
		{"<x>", false},
		{"a&b", false},
		{`a"b`, false},
		{"a'b", false},
		{"a`b", false},
		{`a\b`, false},
		{"a\tb", false},
		{"a\x00b", false},
		{"a\x7fb", false},
		{"é", false},
		{"a\r\nSet-Cookie: x", false},
		{"a\nb", false},
	}
	for _, tt := range tests {
		if got := ValidRequestID(tt.id); got != tt.want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestNewRequestID(t *testing.T) {
	a, b := NewRequestID(), NewRequestID()
	if a == b || len(a) != 24 || !ValidRequestID(a) || !ValidRequestID(b) {
		t.Errorf("NewRequestID() = %q, %q; want two different valid 24-digit IDs", a, b)
	}
}

// TestPagesRequestIDIsTheQuotedOne checks that RequestID returns what the
// page quotes and sets, for the default and a custom header, and that a
// request given an ID with WithRequestID gets a page quoting it.
func TestPagesRequestIDIsTheQuotedOne(t *testing.T) {
	custom := newPages(t, Config{RequestIDHeader: "x-correlation-id"})
	// hooked takes the ID from elsewhere: here a header of its own, as it
	// would from the request's context or its trace.
	hooked := newPages(t, Config{RequestID: func(r *http.Request) string { return r.Header.Get("Hook") }})
	tests := []struct {
		name   string
		p      *Pages
		hdr    []string
		want   string // RequestID's answer
		supply string // an ID given with WithRequestID, if any
	}{
		{name: "default header", p: Default(), hdr: []string{"X-Request-ID", "req-1"}, want: "req-1"},
		{name: "nil pages", hdr: []string{"X-Request-ID", "req-2"}, want: "req-2"},
		{name: "absent", p: Default()},
		{name: "invalid", p: Default(), hdr: []string{"X-Request-ID", "bad id<b>"}},
		{name: "too long", p: Default(), hdr: []string{"X-Request-ID", strings.Repeat("7", 129)}},
		{name: "custom header", p: custom, hdr: []string{"X-Correlation-ID", "corr-3", "X-Request-ID", "req-3"}, want: "corr-3"},
		{name: "custom header ignores X-Request-ID", p: custom, hdr: []string{"X-Request-ID", "req-4"}},
		{name: "supplied", p: Default(), supply: "sup-5"},
		{name: "supplied over invalid", p: Default(), hdr: []string{"X-Request-ID", "bad id"}, supply: "sup-6"},
		{name: "supplied custom", p: custom, hdr: []string{"X-Request-ID", "req-7"}, supply: "sup-7"},
		{name: "hook", p: hooked, hdr: []string{"X-Request-ID", "req-8", "Hook", "web-1/Qm3rT9xZ1a-000008"}, want: "web-1/Qm3rT9xZ1a-000008"},
		{name: "invalid hook falls back to the header", p: hooked, hdr: []string{"X-Request-ID", "req-9", "Hook", "bad id"}, want: "req-9"},
		{name: "empty hook falls back to the header", p: hooked, hdr: []string{"X-Request-ID", "req-10"}, want: "req-10"},
		{name: "invalid hook and header", p: hooked, hdr: []string{"X-Request-ID", "<b>", "Hook", "a\r\nb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(http.MethodGet, "/", append([]string{"Accept", "text/plain"}, tt.hdr...)...)
			before := r.Header.Clone()
			if got := tt.p.RequestID(r); got != tt.want {
				t.Fatalf("RequestID = %q, want %q", got, tt.want)
			}
			want := tt.want
			if tt.supply != "" {
				r2 := tt.p.WithRequestID(r, tt.supply)
				if diff := cmp.Diff(before, r.Header); diff != "" {
					t.Errorf("WithRequestID changed the original request's header (-want +got):\n%s", diff)
				}
				r, want = r2, tt.supply
				if got := tt.p.RequestID(r); got != want {
					t.Fatalf("RequestID after WithRequestID = %q, want %q", got, want)
				}
			}
			rec := httptest.NewRecorder()
			tt.p.ServeError(rec, r, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
			field := "X-Request-Id"
			if tt.p == custom {
				field = "X-Correlation-Id"
				if got := rec.Header().Get("X-Request-Id"); got != "" {
					t.Errorf("X-Request-Id = %q, want none beside %s", got, field)
				}
			}
			quoted := rec.Header().Get(field)
			if want != "" && quoted != want {
				t.Errorf("X-Request-Id = %q, want %q", quoted, want)
			}
			if want == "" && (!ValidRequestID(quoted) || len(quoted) != 24) {
				t.Errorf("X-Request-Id = %q, want a random ID", quoted)
			}
			if !strings.Contains(rec.Body.String(), "Request ID: "+quoted+"\n") {
				t.Errorf("the page does not quote %q:\n%s", quoted, rec.Body)
			}
		})
	}
}

// TestSetRequestID checks the precedence of the response's own ID over the
// request's over a random one, and that the page quotes what SetRequestID
// returned and left on the response.
func TestSetRequestID(t *testing.T) {
	custom := newPages(t, Config{RequestIDHeader: "X-Correlation-ID"})
	tests := []struct {
		name     string
		p        *Pages
		field    string   // the response field the ID goes in
		req, res []string // request and response header fields
		want     string   // "" for a random one
	}{
		{name: "response's own", p: Default(), field: "X-Request-Id", req: []string{"X-Request-ID", "req-1"}, res: []string{"X-Request-ID", "app-1"}, want: "app-1"},
		{name: "request's", p: Default(), field: "X-Request-Id", req: []string{"X-Request-ID", "req-2"}, want: "req-2"},
		{name: "invalid response ID replaced", p: Default(), field: "X-Request-Id", req: []string{"X-Request-ID", "req-3"}, res: []string{"X-Request-ID", "<b>app</b>"}, want: "req-3"},
		{name: "two response IDs replaced", p: Default(), field: "X-Request-Id", res: []string{"X-Request-ID", "app-4", "X-Request-ID", "app-5"}},
		{name: "random", p: Default(), field: "X-Request-Id", req: []string{"X-Request-ID", "bad id"}},
		{name: "custom field", p: custom, field: "X-Correlation-Id", req: []string{"X-Correlation-ID", "corr-6"}, res: []string{"X-Request-ID", "app-6"}, want: "corr-6"},
		{name: "custom field's response ID", p: custom, field: "X-Correlation-Id", res: []string{"X-Correlation-ID", "app-7"}, want: "app-7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(http.MethodGet, "/", append([]string{"Accept", "text/plain"}, tt.req...)...)
			rec := httptest.NewRecorder()
			for i := 0; i < len(tt.res); i += 2 {
				rec.Header().Add(tt.res[i], tt.res[i+1])
			}
			id := tt.p.SetRequestID(rec, r)
			if tt.want != "" && id != tt.want {
				t.Fatalf("SetRequestID = %q, want %q", id, tt.want)
			}
			if tt.want == "" && (len(id) != 24 || !ValidRequestID(id)) {
				t.Fatalf("SetRequestID = %q, want a random ID", id)
			}
			if got := rec.Header().Values(tt.field); len(got) != 1 || got[0] != id {
				t.Fatalf("%s after SetRequestID = %q, want [%q]", tt.field, got, id)
			}
			if again := tt.p.SetRequestID(rec, r); again != id {
				t.Errorf("a second SetRequestID = %q, want %q", again, id)
			}
			tt.p.ServeError(rec, r, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
			if got := rec.Header().Values(tt.field); len(got) != 1 || got[0] != id {
				t.Errorf("%s after ServeError = %q, want [%q]", tt.field, got, id)
			}
			if !strings.Contains(rec.Body.String(), "Request ID: "+id+"\n") {
				t.Errorf("the page does not quote %q:\n%s", id, rec.Body)
			}
		})
	}
}

func TestWithRequestIDKeepsACarryingRequest(t *testing.T) {
	r := request(http.MethodGet, "/", "X-Request-ID", "req-1")
	if got := Default().WithRequestID(r, "req-1"); got != r {
		t.Error("WithRequestID copied a request that carries the ID already")
	}
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header = nil
	r2 := Default().WithRequestID(r, "req-2")
	if r.Header != nil || r2.Header.Get("X-Request-ID") != "req-2" {
		t.Errorf("headers: original %v, copy %v; want nil and X-Request-Id req-2", r.Header, r2.Header)
	}
}

// varyTokens returns the tokens of every Vary line of h, in order.
func varyTokens(h http.Header) []string {
	var ts []string
	for _, v := range h.Values("Vary") {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				ts = append(ts, t)
			}
		}
	}
	return ts
}

func TestServeMergesVary(t *testing.T) {
	tests := []struct {
		name string
		vary []string // the Vary lines already set
		want []string
	}{
		{name: "none", want: []string{"Accept", "Accept-Language"}},
		{name: "empty line", vary: []string{""}, want: []string{"Accept", "Accept-Language"}},
		{name: "kept and extended", vary: []string{"Origin, Accept-Encoding"}, want: []string{"Origin", "Accept-Encoding", "Accept", "Accept-Language"}},
		{name: "every line", vary: []string{"Origin", "Accept-Encoding,\tCookie"}, want: []string{"Origin", "Accept-Encoding", "Cookie", "Accept", "Accept-Language"}},
		{name: "no duplicates", vary: []string{"accept-language", "Origin,accept", "ORIGIN"}, want: []string{"accept-language", "Origin", "accept"}},
		{name: "the page's own", vary: []string{"Accept, Accept-Language"}, want: []string{"Accept", "Accept-Language"}},
		{name: "prefix is not the token", vary: []string{"Accept-Encoding"}, want: []string{"Accept-Encoding", "Accept", "Accept-Language"}},
		{name: "star", vary: []string{"*"}, want: []string{"*"}},
		{name: "star among others", vary: []string{"Origin", "Cookie, *"}, want: []string{"*"}},
	}
	p := newPages(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				rec := httptest.NewRecorder()
				for _, v := range tt.vary {
					rec.Header().Add("Vary", v)
				}
				p.ServeError(rec, request(method, "/"), &gatewayerr.Error{Kind: gatewayerr.ConnectionTimeout})
				if rec.Code != http.StatusGatewayTimeout {
					t.Fatalf("%s: status = %d, want 504", method, rec.Code)
				}
				if n := len(rec.Header().Values("Vary")); n != 1 {
					t.Errorf("%s: %d Vary lines, want one", method, n)
				}
				if diff := cmp.Diff(tt.want, varyTokens(rec.Header())); diff != "" {
					t.Errorf("%s: Vary (-want +got):\n%s", method, diff)
				}
			}
		})
	}
}

// TestWithRequestIDCopiesHeader checks that the copy holds every field of
// the original, nil values included, with the ID replacing any earlier
// value, and that neither header can change the other through a shared
// slice.
func TestWithRequestIDCopiesHeader(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header = http.Header{
		"Accept":       {"text/html", "*/*"},
		"Cookie":       {"a=1"},
		"X-Nil":        nil,
		"X-Request-Id": {"bad id", "second"},
	}
	orig := r.Header.Clone()
	r2 := Default().WithRequestID(r, "req-3")
	want := http.Header{
		"Accept":       {"text/html", "*/*"},
		"Cookie":       {"a=1"},
		"X-Nil":        nil,
		"X-Request-Id": {"req-3"},
	}
	if diff := cmp.Diff(want, r2.Header); diff != "" {
		t.Errorf("copy's header (-want +got):\n%s", diff)
	}
	if v, ok := r2.Header["X-Nil"]; !ok || v != nil {
		t.Errorf("copy's X-Nil = %#v, %v; want a nil value, present", v, ok)
	}
	r2.Header.Add("Accept", "text/plain")
	r2.Header.Add("Cookie", "b=2")
	r2.Header["Accept"][0] = "changed"
	if diff := cmp.Diff(orig, r.Header); diff != "" {
		t.Errorf("original header changed through the copy (-want +got):\n%s", diff)
	}
	if got := r2.Header.Values("Cookie"); !cmp.Equal(got, []string{"a=1", "b=2"}) {
		t.Errorf("copy's Cookie after Add = %q, want [a=1 b=2]: an append overwrote a neighbour", got)
	}
}
