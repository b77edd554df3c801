// Command custom-template shows how to override the error pages' templates
// with files embedded in your binary (a logo and a footer on every page),
// and their copy with Config.Messages (a maintenance message of your own,
// in two languages).
//
//	go run ./examples/custom-template
//
// The files in templates/ are embedded with //go:embed and handed to
// errorpage.New as an fs.FS. A default.html (or default.txt) that holds
// only {{define}} blocks replaces those blocks of the default page and keeps
// everything else (the localized copy, the "where it failed" strip, the
// styles), so an override stays small and keeps working when the defaults
// improve. The blocks are: style, header, message, strip, actions,
// reference, debug and footer (a default.txt has strip, actions, debug and
// footer). A 503.html, 5xx.html and so on that holds only {{define}} blocks
// overrides just those blocks, for its statuses only, on the same page; one
// with content outside its {{define}}s is a complete page of its own for
// those statuses.
// errorpage.New parses and executes every template against sample data, so
// a mistake in a template stops the program at start.
//
// The same files work unembedded: -templates DIR on examples/gateway and
// examples/gallery reads them from disk (os.DirFS), which is handy while
// designing.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

//go:embed templates
var templateFiles embed.FS

// newPages returns the pages with the embedded overrides.
func newPages() (*errorpage.Pages, error) {
	// The files live under templates/ in the embed.FS; errorpage wants
	// them at the root.
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		return nil, err
	}
	return errorpage.New(errorpage.Config{
		Brand: errorpage.Brand{
			Name:        "Acme Shop",
			AccentColor: "#9c1486",
			HomeURL:     "https://acme.example",
		},
		Templates: sub,
		// Copy is changed through messages, not templates, so that it
		// stays translated: these replace the maintenance page's title
		// and text in English and German; every other language keeps the
		// embedded copy. errorpage.MessageKeys lists the keys.
		Messages: map[string]map[string]string{
			"en": {
				"title.maintenance":  "The shop is closed for a short upgrade",
				"detail.maintenance": "We are installing new shelves. Your basket is safe; please come back in a few minutes.",
			},
			"de": {
				"title.maintenance":  "Der Laden ist kurz wegen eines Umbaus geschlossen",
				"detail.maintenance": "Wir stellen neue Regale auf. Ihr Warenkorb bleibt erhalten; bitte kommen Sie in ein paar Minuten wieder.",
			},
		},
	})
}

// newHandler serves a few pages to look at.
func newHandler(pages *errorpage.Pages) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>custom-template</title><h1>Custom templates</h1><ul>
<li><a href="/maintenance">/maintenance</a>: 503 with the custom message (Config.Messages; set your browser to German to see it translated)</li>
<li><a href="/refused">/refused</a>: a refused upstream, default copy with the custom header and footer (templates/default.html)</li>
<li><a href="/missing">/missing</a>: 404</li></ul>`)
	})
	mux.HandleFunc("GET /maintenance", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "600")
		pages.ServeStatus(w, r, http.StatusServiceUnavailable)
	})
	mux.HandleFunc("GET /refused", func(w http.ResponseWriter, r *http.Request) {
		// What a gateway does when its upstream refuses the connection.
		pages.ServeError(w, r, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) {
		pages.ServeStatus(w, r, http.StatusNotFound)
	})
	return mux
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: custom-template\n\nServes error pages with custom templates and copy on 127.0.0.1:8080 (or a free port).\n")
	}
	flag.Parse()
	pages, err := newPages()
	if err != nil {
		log.Fatal(err) // a broken template fails here, at start
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0") // 8080 is taken: any free port
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n\ntry:\n", ln.Addr())
	for _, p := range []string{"/", "/maintenance", "/refused", "/missing"} {
		fmt.Printf("  curl -i http://%s%s\n", ln.Addr(), p)
	}

	srv := &http.Server{Handler: newHandler(pages), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
