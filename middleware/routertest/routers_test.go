package routertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/gatehouse-go/gatehouse/middleware"
)

// Every router gets the same routes: an upstream-style 502 in plain text,
// a 502 in JSON, a panic, and a success; /missing is the router's own 404.

func chiRoutes(r chi.Router) {
	r.Get("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	r.Get("/bad-gateway", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream said no", http.StatusBadGateway)
	})
	r.Get("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte(`{"message":"upstream down"}`))
	})
	r.Get("/panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
}

func echoRoutes(e *echo.Echo) {
	e.GET("/ok", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/bad-gateway", func(c echo.Context) error { return c.String(http.StatusBadGateway, "upstream said no") })
	e.GET("/json", func(c echo.Context) error { return echo.NewHTTPError(http.StatusBadGateway, "upstream down") })
	e.GET("/no-content", func(c echo.Context) error { return c.NoContent(http.StatusBadGateway) })
	e.GET("/panic", func(c echo.Context) error { panic("boom") })
}

func ginRoutes(g *gin.Engine) {
	g.GET("/ok", func(c *gin.Context) { c.String(http.StatusOK, "ok") })
	g.GET("/bad-gateway", func(c *gin.Context) { c.String(http.StatusBadGateway, "upstream said no") })
	g.GET("/json", func(c *gin.Context) { c.JSON(http.StatusBadGateway, gin.H{"message": "upstream down"}) })
	g.GET("/panic", func(c *gin.Context) { panic("boom") })
}

func netHTTPRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("GET /bad-gateway", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream said no", http.StatusBadGateway)
	})
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte(`{"message":"upstream down"}`))
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
}

// echoJSON is the body echo's HTTPErrorHandler writes for message.
func echoJSON(message string) string {
	b, _ := json.Marshal(map[string]string{"message": message})
	return string(b)
}

// TestRouters checks, for each router set up as the README shows, what a
// client gets: a route's bare 502 becomes the page, its JSON 502 is kept,
// a panic gives the 500 page (or, where the router's recoverer answers
// first, what the README says), the router's own 404 stays the router's,
// and a page quotes the ID the router's request-ID middleware made.
func TestRouters(t *testing.T) {
	const notFound = "404 page not found"
	tests := []struct {
		name    string
		handler http.Handler
		want    map[string]want // path: what a GET of it gets
	}{
		{
			name:    "net/http",
			handler: netHTTP(netHTTPRoutes),
			want: map[string]want{
				"/ok":          {status: 200, body: "ok"},
				"/bad-gateway": {status: 502, page: true},
				"/json":        {status: 502, body: `{"message":"upstream down"}`},
				"/panic":       {status: 500, page: true},
				"/missing":     {status: 404, body: notFound},
			},
		},
		{
			name:    "chi: Handler inside Recoverer",
			handler: chiRouter(chiRoutes),
			want: map[string]want{
				"/ok":          {status: 200, body: "ok"},
				"/bad-gateway": {status: 502, page: true, id: chiID},
				"/json":        {status: 502, body: `{"message":"upstream down"}`},
				"/panic":       {status: 500, page: true, id: chiID},
				"/missing":     {status: 404, body: notFound},
			},
		},
		{
			// chi's Recoverer answers first, with an empty 500, which is
			// not intercepted by default.
			name: "chi: Recoverer inside Handler",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.Use(chimw.RequestID, middleware.Handler(middleware.Options{}), chimw.Recoverer)
				chiRoutes(r)
				return r
			}(),
			want: map[string]want{
				"/bad-gateway": {status: 502, page: true},
				"/panic":       {status: 500, body: ""},
			},
		},
		{
			name: "chi: Recoverer inside Handler, 500 intercepted",
			handler: func() http.Handler {
				r := chi.NewRouter()
				r.Use(chimw.RequestID, middleware.Handler(middleware.Options{Intercept: []int{404, 500, 502}}), chimw.Recoverer)
				chiRoutes(r)
				return r
			}(),
			want: map[string]want{
				"/panic":   {status: 500, page: true},
				"/missing": {status: 404, page: true}, // chi's plain-text 404 is bare
			},
		},
		{
			// Errors a route returns, and echo's 404, are written by echo's
			// HTTPErrorHandler after the wrapped middleware returned: they
			// reach the client as echo writes them.
			name:    "echo: WrapMiddleware inside Recover",
			handler: echoWrapMiddleware(echoRoutes),
			want: map[string]want{
				"/ok":          {status: 200, body: "ok"},
				"/bad-gateway": {status: 502, page: true, id: echoID},
				"/no-content":  {status: 502, page: true, id: echoID},
				"/json":        {status: 502, body: echoJSON("upstream down")},
				"/panic":       {status: 500, page: true, id: echoID},
				"/missing":     {status: 404, body: echoJSON("Not Found")},
			},
		},
		{
			// Recover answers first: echo's error handler writes a JSON
			// 500, which ReplaceBare keeps, as it keeps echo's JSON 404.
			name: "echo: Handler around the Echo, default Options",
			handler: func() http.Handler {
				e := echo.New()
				quiet(e)
				e.Use(echomw.RequestID(), echomw.Recover())
				echoRoutes(e)
				return middleware.Handler(middleware.Options{Intercept: []int{404, 500, 502, 503, 504}})(e)
			}(),
			want: map[string]want{
				"/bad-gateway": {status: 502, page: true, id: echoID},
				"/json":        {status: 502, body: echoJSON("upstream down")},
				"/panic":       {status: 500, body: echoJSON("Internal Server Error")},
				"/missing":     {status: 404, body: echoJSON("Not Found")},
			},
		},
		{
			name:    "echo: Handler around the Echo, ReplaceUnlessHTML",
			handler: echoWrapped(echoRoutes),
			want: map[string]want{
				"/ok":          {status: 200, body: "ok"},
				"/bad-gateway": {status: 502, page: true, id: echoID},
				"/json":        {status: 502, page: true, id: echoID},
				"/panic":       {status: 500, page: true, id: echoID},
				"/missing":     {status: 404, page: true, id: echoID},
			},
		},
		{
			name:    "gin: Handler around the engine",
			handler: ginEngine(ginRoutes),
			want: map[string]want{
				"/ok":          {status: 200, body: "ok"},
				"/bad-gateway": {status: 502, page: true, id: uuidID},
				"/json":        {status: 502, body: `{"message":"upstream down"}`},
				"/panic":       {status: 500, page: true, id: uuidID},
				"/missing":     {status: 404, body: notFound},
			},
		},
		{
			// gin.Recovery answers first, with an empty 500, which is not
			// intercepted by default.
			name: "gin: Handler around the engine, default Options",
			handler: func() http.Handler {
				engine := gin.New()
				engine.Use(gin.Recovery())
				ginRoutes(engine)
				return middleware.Handler(middleware.Options{})(engine)
			}(),
			want: map[string]want{
				"/bad-gateway": {status: 502, page: true},
				"/panic":       {status: 500, body: ""},
			},
		},
		{
			name: "gin: Handler around the engine, 404 intercepted",
			handler: func() http.Handler {
				engine := gin.New()
				ginRoutes(engine)
				return middleware.Handler(middleware.Options{Intercept: []int{404, 502}})(engine)
			}(),
			want: map[string]want{
				"/missing": {status: 404, page: true}, // gin's plain-text 404 is bare
			},
		},
		{
			// Without gin.Recovery, Handler recovers the panic itself.
			name: "gin: no Recovery",
			handler: func() http.Handler {
				engine := gin.New()
				ginRoutes(engine)
				return middleware.Handler(middleware.Options{})(engine)
			}(),
			want: map[string]want{
				"/panic": {status: 500, page: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for path, w := range tt.want {
				t.Run(path, func(t *testing.T) {
					w.check(t, get(t, tt.handler, http.MethodGet, path))
				})
			}
		})
	}
}

// TestEchoWrapMiddlewareConcurrent sends many concurrent requests through
// echo.WrapMiddleware, a third of them answered by echo's error handler
// after Handler returned: each gets its own answer, and none crashes the
// server (before Handler's writer outlived its call, echo's 404 dropped the
// connection).
func TestEchoWrapMiddlewareConcurrent(t *testing.T) {
	const requests, conns = 600, 16
	srv := httptest.NewServer(echoWrapMiddleware(echoRoutes))
	defer srv.Close()
	c := srv.Client()
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = conns
	defer c.CloseIdleConnections()
	paths := []string{"/ok", "/json", "/bad-gateway", "/missing", "/panic"}
	errs := make(chan error, requests)
	slots := make(chan struct{}, conns)
	var wg sync.WaitGroup
	for i := range requests {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			path := paths[i%len(paths)]
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path+"?i="+strconv.Itoa(i), nil)
			req.Header.Set("Accept", "text/plain")
			resp, err := c.Do(req)
			if err != nil {
				errs <- fmt.Errorf("%s: %v", path, err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			body := string(b)
			wantStatus, wantBody := map[string]int{"/ok": 200, "/json": 502, "/bad-gateway": 502, "/missing": 404, "/panic": 500}[path], ""
			switch path {
			case "/ok":
				wantBody = "ok"
			case "/json":
				wantBody = echoJSON("upstream down")
			case "/missing":
				wantBody = echoJSON("Not Found")
			}
			switch {
			case err != nil:
				errs <- fmt.Errorf("%s: %v", path, err)
			case resp.StatusCode != wantStatus:
				errs <- fmt.Errorf("%s: status %d, want %d", path, resp.StatusCode, wantStatus)
			case wantBody != "" && strings.TrimSpace(body) != wantBody:
				errs <- fmt.Errorf("%s: body %q, want %q", path, body, wantBody)
			case wantBody == "" && !strings.Contains(body, "Request ID: "+resp.Header.Get("X-Request-Id")+"\n"):
				errs <- fmt.Errorf("%s: want a page quoting its ID, got %q", path, body)
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d requests failed", n, requests)
	}
}

// TestEchoContextTimeoutOrder pins what the README says of a middleware
// that cancels the context it hands on when it returns, as echo's
// ContextTimeout does: inside Handler, echo's error handler still reaches
// the client after Handler returned; outside it, Handler's writer sees its
// request's context done by then and writes nothing, and the client gets
// net/http's empty 200.
func TestEchoContextTimeoutOrder(t *testing.T) {
	for _, tt := range []struct {
		name   string
		inside bool
		want   want
	}{
		{"ContextTimeout inside Handler", true, want{status: 502, body: echoJSON("upstream down")}},
		{"ContextTimeout outside Handler", false, want{status: 200, body: ""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := echo.New()
			quiet(e)
			wrapped := echo.WrapMiddleware(middleware.Handler(middleware.Options{}))
			timeout := echomw.ContextTimeout(time.Minute)
			if tt.inside {
				e.Use(wrapped, timeout)
			} else {
				e.Use(timeout, wrapped)
			}
			echoRoutes(e)
			tt.want.check(t, get(t, e, http.MethodGet, "/json"))
		})
	}
}
