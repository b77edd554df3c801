package errorpage_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing/fstest"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// The zero Config gives the embedded default pages. Here a gateway
// answers for an upstream that refused the connection; the client asked
// for plain text.
func Example() {
	pages, err := errorpage.New(errorpage.Config{
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pages.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
	}))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept", "text/plain")
	req.Header.Set("X-Request-ID", "req-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, resp.Header.Get("Cache-Control"))
	fmt.Print(string(body))
	// Output:
	// 502 Bad Gateway no-store
	// 502 Bad Gateway
	//
	// The service is not accepting connections
	// Our gateway tried to connect to the service behind this site, but the service refused the connection. It may be restarting.
	//
	// Where it failed:
	// Your browser [OK] -> Gateway [OK] -> Service [X]
	//
	// What you can do:
	// - Reload the page in a minute or two.
	//
	// Reference:
	// Request ID: req-42
	// Time: 2026-01-02 03:04:05 UTC
	// If you contact support, please quote this reference.
}

// A Brand gives the pages the operator's name, colours and links; New
// rejects values that would make a bad page.
func ExampleBrand() {
	pages, err := errorpage.New(errorpage.Config{Brand: errorpage.Brand{
		Name:        "Acme Cloud",
		Logo:        `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><circle cx="4" cy="4" r="4"/></svg>`,
		AccentColor: "#0b5cad",
		StatusURL:   "https://status.acme.example/",
		SupportURL:  "mailto:support@acme.example",
	}})
	if err != nil {
		log.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Language", "de-CH, de;q=0.9")
	pages.ServeStatus(rec, req, http.StatusServiceUnavailable)
	body := rec.Body.String()
	fmt.Println(rec.Code, rec.Header().Get("Content-Language"))
	fmt.Println(strings.Contains(body, "<h1>Wartungsarbeiten</h1>"))
	fmt.Println(strings.Contains(body, `<a href="https://status.acme.example/">Zur Statusseite</a>`))

	_, err = errorpage.New(errorpage.Config{Brand: errorpage.Brand{Logo: "https://acme.example/logo.png"}})
	fmt.Println(err != nil)
	_, err = errorpage.New(errorpage.Config{Brand: errorpage.Brand{TextColor: "#dddddd"}})
	fmt.Println(err)
	// Output:
	// 503 de
	// true
	// true
	// true
	// errorpage: invalid brand: TextColor #dddddd on BackgroundColor #f6f7f9 has contrast 1.27:1, below WCAG AA's 4.5:1
}

// Templates in an fs.FS override the embedded ones: a whole page for one
// status ("404.html"), a class of statuses ("5xx.txt"), or only some
// blocks of the default page ("default.html" holding {{define}}s).
func ExampleConfig_templates() {
	fsys := fstest.MapFS{
		"default.html": {Data: []byte(`{{define "footer"}}<footer>Need help? Call +1 555 0100.</footer>{{end}}`)},
		"5xx.txt":      {Data: []byte("{{.Status}}: {{.Title}}. Reference {{.RequestID}}.\n")},
	}
	pages, err := errorpage.New(errorpage.Config{Templates: fsys})
	if err != nil {
		log.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-ID", "r-7")

	req.Header.Set("Accept", "text/plain")
	rec := httptest.NewRecorder()
	pages.ServeError(rec, req, gatewayerr.HTTPResponseTimeout)
	fmt.Print(rec.Body.String())

	req.Header.Set("Accept", "text/html")
	rec = httptest.NewRecorder()
	pages.ServeStatus(rec, req, http.StatusNotFound)
	fmt.Println(strings.Contains(rec.Body.String(), "<footer>Need help? Call +1 555 0100.</footer>"))
	// Output:
	// 504: The service took too long to answer. Reference r-7.
	// true
}

// Render writes any variant of a page without a request, for a gallery
// or a test.
func ExamplePages_Render() {
	err := errorpage.Default().Render(os.Stdout, errorpage.Sample{
		Err:       &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, RetryAfter: 30 * time.Second},
		Format:    errorpage.ProblemJSON,
		Language:  "fr",
		RequestID: "r-1",
		Time:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"type":"about:blank","title":"Service indisponible","status":503,"detail":"Le service qui fait fonctionner ce site a connu des défaillances répétées. Notre passerelle lui laisse un peu de temps pour se rétablir avant de lui transmettre à nouveau des requêtes.","kind":"destination_unavailable","request_id":"r-1","time":"2026-01-02T03:04:05Z","retry_after":30}
}

// Negotiate tells middleware which format a request will get.
func ExampleNegotiate() {
	for _, accept := range []string{"text/html,*/*;q=0.8", "application/json", "application/*", "text/plain;q=0.5, */*;q=0.1"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept", accept)
		fmt.Println(errorpage.Negotiate(req))
	}
	// Output:
	// html
	// json
	// problem+json
	// text
}

// A middleware that logs a failure logs the request ID its page quotes: the
// request's own when valid, else a random one, which SetRequestID sets on
// the response for the page to quote.
func ExamplePages_SetRequestID() {
	pages := errorpage.Default()
	serve := func(w http.ResponseWriter, r *http.Request, err error) {
		id := pages.SetRequestID(w, r)
		if id == pages.RequestID(r) {
			fmt.Println("log: request_id =", id)
		} else {
			fmt.Println("log: request_id = (a new random ID)")
		}
		pages.ServeError(w, r, err)
		if quoted := w.Header().Get("X-Request-Id"); quoted == id {
			fmt.Println("page: X-Request-Id = the logged ID")
		}
	}
	for _, rid := range []string{"req-42", "not a valid ID"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Request-ID", rid)
		serve(httptest.NewRecorder(), r, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
	}
	// Output:
	// log: request_id = req-42
	// page: X-Request-Id = the logged ID
	// log: request_id = (a new random ID)
	// page: X-Request-Id = the logged ID
}

// ridKey is the context key under which the application's request-ID
// middleware keeps the ID it logs, as chi's middleware.RequestID does.
type ridKey struct{}

// A page quotes the ID the application logged, wherever the application
// keeps it: here in the request's context. An ID the hook cannot give (an
// empty or an invalid one) falls back to the request's X-Request-ID header,
// then to a random ID.
func ExampleConfig_requestID() {
	pages, err := errorpage.New(errorpage.Config{
		RequestID: func(r *http.Request) string {
			id, _ := r.Context().Value(ridKey{}).(string)
			return id
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, id := range []string{"web-1/Qm3rT9xZ1a-000042", "", "<script>"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Request-ID", "from-the-header")
		r = r.WithContext(context.WithValue(r.Context(), ridKey{}, id))
		w := httptest.NewRecorder()
		pages.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
		fmt.Printf("%q: X-Request-Id %s\n", id, w.Header().Get("X-Request-Id"))
	}
	// Output:
	// "web-1/Qm3rT9xZ1a-000042": X-Request-Id web-1/Qm3rT9xZ1a-000042
	// "": X-Request-Id from-the-header
	// "<script>": X-Request-Id from-the-header
}

// A maintenance page that knows when the maintenance ends: for a GET
// within Config.RefreshLimit (5 minutes by default) it reloads itself then,
// with no script, and says so; for a POST it only says when to try again.
func ExampleErrMaintenance() {
	now := time.Date(2026, 5, 6, 21, 34, 0, 0, time.UTC)
	pages, err := errorpage.New(errorpage.Config{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	maintenance := &gatewayerr.Error{Kind: gatewayerr.DestinationUnavailable, Err: errorpage.ErrMaintenance, RetryAfter: 2 * time.Minute}
	for _, method := range []string{"GET", "POST"} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(method, "/", nil)
		r.Header.Set("Accept", "text/html")
		pages.ServeError(rec, r, maintenance)
		body := rec.Body.String()
		fmt.Println(method, rec.Code, "Retry-After:", rec.Header().Get("Retry-After"))
		fmt.Println("  refreshes:", strings.Contains(body, `<meta http-equiv=refresh content="120">`))
		fmt.Println("  says:", strings.Contains(body, "This page will try again by itself at 21:36:00 UTC."),
			strings.Contains(body, "You can try again after 21:36:00 UTC."))
	}
	// Output:
	// GET 503 Retry-After: 120
	//   refreshes: true
	//   says: true false
	// POST 503 Retry-After: 120
	//   refreshes: false
	//   says: false true
}

// ExamplePages_Debug shows the one decision whether a request sees debug
// details, which middleware's Proxy-Status follows by default.
func ExamplePages_Debug() {
	pages, err := errorpage.New(errorpage.Config{
		Debug: func(r *http.Request) bool { return strings.HasPrefix(r.RemoteAddr, "127.") },
	})
	if err != nil {
		log.Fatal(err)
	}
	inside := httptest.NewRequest(http.MethodGet, "/", nil)
	inside.RemoteAddr = "127.0.0.1:40000"
	outside := httptest.NewRequest(http.MethodGet, "/", nil)
	outside.RemoteAddr = "203.0.113.9:40000"
	fmt.Println(pages.Debug(inside), pages.Debug(outside))
	// Output: true false
}
