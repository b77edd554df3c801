// Command gallery serves every error page side by side: each status and
// failure kind, in each language, light and dark, desktop and mobile, and
// in every format (HTML, problem+json, JSON, plain text). Use it to design
// a brand or to check a translation.
//
//	go run ./examples/gallery
//	go run ./examples/gallery -brand "Acme Shop" -templates ./examples/custom-template/templates
//
// It prints its address; open it in a browser. The pages are rendered by
// errorpage.Pages exactly as a gateway would serve them, from sample
// failures; nothing is proxied.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gallery:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("gallery", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8081", "listen `address`; the default falls back to a free port if it is taken")
	brand := flags.String("brand", "", "the `name` on the pages")
	templates := flags.String("templates", "", "`directory` of templates overriding the default pages")
	if err := flags.Parse(args); err != nil {
		return err
	}
	addrSet := false
	flags.Visit(func(f *flag.Flag) { addrSet = addrSet || f.Name == "addr" })

	cfg := errorpage.Config{Brand: errorpage.Brand{Name: *brand}}
	if *templates != "" {
		if fi, err := os.Stat(*templates); err != nil || !fi.IsDir() {
			return fmt.Errorf("-templates %q: not a directory", *templates)
		}
		cfg.Templates = os.DirFS(*templates)
	}
	pages, err := errorpage.New(cfg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil && !addrSet {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", ln.Addr())

	srv := &http.Server{Handler: newGallery(pages), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// A subject is what a page is about: an HTTP status (as a handler's
// ServeStatus gives it) or a failure kind (as a gateway's ServeError gives
// it).
type subject struct {
	Key   string // "status:503" or "kind:connection_refused"
	Label string
}

// subjects lists the statuses, then the kinds of gateway failure.
func subjects() []subject {
	var s []subject
	for _, code := range []int{400, 401, 403, 404, 405, 408, 410, 413, 429, 500, 501, 502, 503, 504} {
		s = append(s, subject{"status:" + strconv.Itoa(code), fmt.Sprintf("%d %s", code, http.StatusText(code))})
	}
	for _, k := range gatewayerr.Kinds() {
		if k.Registered() {
			s = append(s, subject{"kind:" + k.String(), fmt.Sprintf("%d %s", k.StatusCode(), k)})
		}
	}
	return s
}

// formats are the formats the gallery shows.
var formats = []errorpage.Format{errorpage.HTML, errorpage.ProblemJSON, errorpage.JSON, errorpage.Text}

// newGallery returns the gallery's handler: "/" is the gallery and
// "/render" one page.
func newGallery(pages *errorpage.Pages) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		serveIndex(w, r, pages)
	})
	mux.HandleFunc("GET /render", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var body bytes.Buffer
		f := sampleOf(q).Format
		if err := pages.Render(&body, sampleOf(q)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", f.ContentType())
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(body.Bytes())
	})
	return mux
}

// sampleOf describes the page that a query asks for: what=status:503 or
// what=kind:dns_error, lang=de, format=html, debug=1.
func sampleOf(q url.Values) errorpage.Sample {
	s := errorpage.Sample{
		Language:  q.Get("lang"),
		Debug:     q.Get("debug") == "1",
		RequestID: "gallery-0001",
		Host:      "shop.example",
		Path:      "/checkout",
	}
	for _, f := range formats {
		if f.String() == q.Get("format") {
			s.Format = f
		}
	}
	what := q.Get("what")
	if token, ok := strings.CutPrefix(what, "kind:"); ok {
		if k, ok := gatewayerr.ParseKind(token); ok {
			// A sample failure, with the details a developer would see
			// with debug on.
			s.Err = &gatewayerr.Error{
				Kind:        k,
				Err:         errors.New("sample cause: dial tcp 10.0.0.7:8080: connect: connection refused"),
				Phase:       gatewayerr.PhaseDial,
				Upstream:    "orders.internal:8080",
				Attempts:    1,
				DNSInfoCode: -1,
				TLSAlertID:  -1,
				Size:        -1,
			}
			return s
		}
	}
	s.Status, _ = strconv.Atoi(strings.TrimPrefix(what, "status:"))
	if s.Status < 400 || s.Status > 599 {
		s.Status = http.StatusBadGateway
	}
	return s
}

// serveIndex serves the gallery: the chosen subject in every language,
// light, dark and mobile, and in every format for the first language.
func serveIndex(w http.ResponseWriter, r *http.Request, pages *errorpage.Pages) {
	q := r.URL.Query()
	what := q.Get("what")
	if what == "" {
		what = "kind:connection_refused"
	}
	langs := errorpage.Languages()
	if l := q.Get("lang"); l != "" && slices.Contains(langs, l) {
		langs = []string{l}
	}
	type sample struct {
		Format string
		Body   string
	}
	var samples []sample
	for _, f := range formats[1:] { // HTML is shown framed below
		var body bytes.Buffer
		sq := url.Values{"what": {what}, "lang": {langs[0]}, "format": {f.String()}, "debug": {q.Get("debug")}}
		if err := pages.Render(&body, sampleOf(sq)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		samples = append(samples, sample{f.String(), body.String()})
	}
	data := struct {
		What      string
		Lang      string
		Debug     bool
		Subjects  []subject
		Languages []string
		Shown     []string
		Query     func(lang string) template.URL
		Samples   []sample
	}{
		What:      what,
		Lang:      q.Get("lang"),
		Debug:     q.Get("debug") == "1",
		Subjects:  subjects(),
		Languages: errorpage.Languages(),
		Shown:     langs,
		Query: func(lang string) template.URL {
			return template.URL("/render?" + url.Values{"what": {what}, "lang": {lang}, "format": {"html"}, "debug": {q.Get("debug")}}.Encode())
		},
		Samples: samples,
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var buf bytes.Buffer
	if err := galleryPage.Execute(&buf, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(buf.Bytes())
}

var galleryPage = template.Must(template.New("gallery").Parse(`<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse gallery</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:1.5rem;background:#e9eaee;color:#1b1d22}
form{display:flex;gap:1rem;flex-wrap:wrap;align-items:end;margin-bottom:1.5rem}
label{display:flex;flex-direction:column;font-weight:600}
select,button{font:inherit}
.row{display:flex;gap:1rem;align-items:start;margin-bottom:2rem;overflow-x:auto}
.row h2{writing-mode:vertical-rl;transform:rotate(180deg);margin:0;font-size:1rem}
figure{margin:0}
figcaption{font-size:.85rem;color:#555}
iframe{border:1px solid #aab;background:#fff;border-radius:6px}
.desktop{width:640px;height:520px}.mobile{width:360px;height:640px}
pre{background:#fff;border:1px solid #aab;border-radius:6px;padding:1rem;max-width:60rem;overflow:auto;white-space:pre-wrap}
</style>
<h1>Gatehouse gallery</h1>
<form method="get" action="/">
<label>Page <select name="what">{{range .Subjects}}<option value="{{.Key}}"{{if eq .Key $.What}} selected{{end}}>{{.Label}}</option>{{end}}</select></label>
<label>Language <select name="lang"><option value="">all</option>{{range .Languages}}<option{{if eq . $.Lang}} selected{{end}}>{{.}}</option>{{end}}</select></label>
<label><span>Debug details</span><input type="checkbox" name="debug" value="1"{{if .Debug}} checked{{end}}></label>
<button>Show</button>
</form>
{{range .Shown}}
<div class="row">
<h2>{{.}}</h2>
<figure><iframe class="desktop" loading="lazy" src="{{call $.Query .}}" style="color-scheme:light" title="{{.}} light"></iframe><figcaption>light</figcaption></figure>
<figure><iframe class="desktop" loading="lazy" src="{{call $.Query .}}" style="color-scheme:dark" title="{{.}} dark"></iframe><figcaption>dark</figcaption></figure>
<figure><iframe class="mobile" loading="lazy" src="{{call $.Query .}}" style="color-scheme:light" title="{{.}} mobile"></iframe><figcaption>mobile</figcaption></figure>
</div>
{{end}}
<h2>Other formats ({{index .Shown 0}})</h2>
{{range .Samples}}<h3>{{.Format}}</h3><pre dir="auto">{{.Body}}</pre>{{end}}
</html>
`))
