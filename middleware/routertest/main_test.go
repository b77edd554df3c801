package routertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	gin.DefaultErrorWriter = io.Discard // gin.Recovery's stack traces
	goleak.VerifyTestMain(m)
}

// reply is what a client got.
type reply struct {
	status int
	header http.Header
	body   string
}

// get serves h on 127.0.0.1 and sends it one request for path, with the
// header fields hdr (name, value, ...), asking for plain text unless hdr
// says otherwise.
func get(t *testing.T, h http.Handler, method, path string, hdr ...string) reply {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := srv.Client()
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(body)}
}

// want is what a reply must be: a Gatehouse page of the status, or the
// router's own body (exact, or JSON with the message), with a request ID
// of the form the router's request-ID middleware makes.
type want struct {
	status int
	page   bool           // a Gatehouse page quoting the response's X-Request-Id
	body   string         // the router's own body, when not a page ("" and !page: empty)
	id     *regexp.Regexp // the X-Request-Id a page quotes; nil: any
}

func (w want) check(t *testing.T, got reply) {
	t.Helper()
	if got.status != w.status {
		t.Errorf("status %d, want %d; body:\n%s", got.status, w.status, got.body)
	}
	isPage := strings.Contains(got.body, "\nReference:\nRequest ID: ")
	switch {
	case w.page && !isPage:
		t.Errorf("got the router's own body, want a Gatehouse page:\n%s", got.body)
	case !w.page && isPage:
		t.Errorf("got a Gatehouse page, want the router's own body %q:\n%s", w.body, got.body)
	case !w.page && strings.TrimSpace(got.body) != w.body:
		t.Errorf("body %q, want %q", got.body, w.body)
	}
	if !w.page {
		return
	}
	id := got.header.Get("X-Request-Id")
	if !strings.Contains(got.body, "Request ID: "+id+"\n") {
		t.Errorf("the page does not quote its X-Request-Id %q:\n%s", id, got.body)
	}
	if w.id != nil && !w.id.MatchString(id) {
		t.Errorf("the page quotes %q, want the router's request ID (%v)", id, w.id)
	}
	if strings.Contains(got.body, "upstream said no") || strings.Contains(got.body, "boom") {
		t.Errorf("the page leaks the route's body or panic:\n%s", got.body)
	}
}

// The request IDs that the routers' request-ID middlewares make.
var (
	chiID  = regexp.MustCompile(`^[^/]+/[A-Za-z0-9]{10}-[0-9]{6}$`)
	echoID = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	uuidID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)
