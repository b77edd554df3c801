package errorpage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// FuzzServe renders pages for arbitrary requests and failures and checks
// the invariants: the right status, a Content-Length that is the body's,
// no CR or LF in any header, valid JSON, no markup from the input in HTML,
// no control character in text.
func FuzzServe(f *testing.F) {
	f.Add("/", "example.com", "abc", "text/html", "en", "refused", 502, uint8(gatewayerr.ConnectionRefused), false, "proxy")
	f.Add("/api/x", "h", "", "*/*", "ar,pt-BR;q=0.5", "<script>", 503, uint8(0), true, "")
	f.Add("/%0d%0a", "\r\n", "a\nb", "application/problem+json;q=0.5,text/plain", "zh-TW", "\x00\u2028", 404, uint8(99), true, `"x"`)
	f.Add("/", "h", "web-1/Qm3rT9xZ1a-000001", "text/html", "en", "refused", 502, uint8(gatewayerr.ConnectionRefused), false, "")
	f.Add("/", "h", "Root=1-5759e988;Parent=53995c3f;Sampled=1", "application/json", "en", "x", 503, uint8(3), false, "")
	p, err := New(Config{Debug: func(r *http.Request) bool { return r.Header.Get("X-Debug") != "" }, Now: func() time.Time { return fixedNow }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, host, rid, accept, lang, cause string, status int, kind uint8, debug bool, proxy string) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: path}, Host: host, Header: http.Header{
			"Accept": {accept}, "Accept-Language": {lang}, "X-Request-Id": {rid},
		}}
		if debug {
			r.Header.Set("X-Debug", "1")
		}
		rec := httptest.NewRecorder()
		wantStatus := status
		if kind%3 == 0 {
			p.ServeStatus(rec, r, status) // the client is there: 499 gets its page
			if status < 400 || status > 599 {
				wantStatus = 500
			}
		} else {
			ge := &gatewayerr.Error{Kind: gatewayerr.Kind(kind), Err: errors.New(cause), Upstream: cause, ReceivedStatus: status,
				Chain: []gatewayerr.ProxyStatus{{Proxy: proxy, Error: cause, Kind: gatewayerr.Kind(kind / 2)}}}
			if ge.Kind == gatewayerr.ClientClosedRequest {
				gone, cancel := context.WithCancel(context.Background())
				cancel()
				p.ServeError(rec, r.WithContext(gone), ge)
				if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
					t.Fatal("wrote a page for a closed client")
				}
				rec = httptest.NewRecorder()
			}
			wantStatus = ge.StatusCode()
			p.ServeError(rec, r, ge)
		}
		if rec.Code != wantStatus {
			t.Fatalf("status %d, want %d", rec.Code, wantStatus)
		}
		body := rec.Body.Bytes()
		if quoted := rec.Header().Get("X-Request-Id"); ValidRequestID(rid) && quoted != rid || !ValidRequestID(quoted) {
			t.Fatalf("X-Request-Id %q for the request's %q", quoted, rid)
		} else if !bytes.Contains(body, []byte(quoted)) {
			t.Fatalf("the page does not quote %q:\n%s", quoted, body)
		}
		if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
			t.Fatalf("Content-Length %s for %d bytes", cl, len(body))
		}
		for k, vs := range rec.Header() {
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("header %s: %q", k, v)
				}
			}
		}
		switch ct := rec.Header().Get("Content-Type"); ct {
		case HTML.ContentType():
			if bytes.Contains(bytes.ToLower(body), []byte("<script")) {
				t.Fatalf("script in HTML:\n%s", body)
			}
		case Text.ContentType():
			for _, c := range body {
				if c < 0x20 && c != '\n' || c == 0x7f {
					t.Fatalf("control character %#x in text:\n%q", c, body)
				}
			}
		case JSON.ContentType(), ProblemJSON.ContentType():
			if !json.Valid(body) {
				t.Fatalf("invalid JSON:\n%s", body)
			}
		default:
			t.Fatalf("Content-Type %q", ct)
		}
	})
}

// FuzzJSONString checks the hand-written JSON string encoder against
// encoding/json.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "<>&", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xfe", "日本語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		writeJSONString(&b, s)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if b.String() != string(want) {
			t.Fatalf("writeJSONString(%q) = %s, encoding/json %s", s, b.String(), want)
		}
	})
}

// FuzzValidRequestID checks that an ID ValidRequestID accepts reads the
// same in every place a page puts it: it needs no escaping in HTML (text or
// quoted attribute), JSON, a header value or a URL path, and holds no byte
// that ends a line or a list.
func FuzzValidRequestID(f *testing.F) {
	for _, s := range []string{
		"abc-123", "web-1/Qm3rT9xZ1a-000001", "8f14e45f-ceea-467a-9575-0a2ad1cbe0a3",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "Root=1-5;Parent=5;Sampled=1",
		"", "a b", "a+b", "<x>", `a"b`, "a'b", "a\r\nb", "a,b", "é", strings.Repeat("a", 129),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if !ValidRequestID(id) {
			return
		}
		if len(id) > maxRequestID {
			t.Fatalf("%d bytes accepted", len(id))
		}
		if got := template.HTMLEscapeString(id); got != id {
			t.Fatalf("HTML escapes %q as %q", id, got)
		}
		if got, _ := json.Marshal(id); string(got) != `"`+id+`"` {
			t.Fatalf("JSON escapes %q as %s", id, got)
		}
		if !httpguts.ValidHeaderFieldValue(id) || strings.ContainsAny(id, " \t,\r\n\x00") {
			t.Fatalf("%q is not a plain header value", id)
		}
		if got := (&url.URL{Path: id}).EscapedPath(); got != id && got != "./"+id {
			t.Fatalf("a URL path escapes %q as %q", id, got)
		}
	})
}
