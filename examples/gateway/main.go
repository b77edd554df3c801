// Command gateway is Gatehouse's demo: a branded gateway in front of an
// embedded, deliberately flaky upstream.
//
// From the repository's root:
//
//	go run ./examples/gateway
//
// It prints the address it listens on and a menu of URLs. Each makes the
// upstream fail in a different way (refuse, reset, stall, send garbage,
// present a bad certificate, ...); open them in a browser to see the branded
// pages, or fetch them with curl to see the status and the Proxy-Status
// header. Every failure is logged to stderr as a structured slog record,
// and counted in Prometheus metrics served on /metrics (through
// contrib/prometheus: failures by RFC 9209 kind, attempts, retries,
// breaker states, pages).
//
// The examples are a module of their own, so that the library's go.mod
// never requires Prometheus; the go.work at the repository's root joins
// them to the library and to contrib/prometheus.
//
// Flags:
//
//	-addr ADDR       listen address (default 127.0.0.1:8080, or a free port if it is taken)
//	-upstream URL    put the gateway in front of a real service instead of the flaky one
//	-brand NAME      the name on the pages (default "Gatehouse demo")
//	-debug           show failure details (kind, upstream, cause) on the pages
//	-templates DIR   override the page templates with the files in DIR
//
// /maintenance/on turns the gateway's maintenance mode on for two minutes,
// and /maintenance/off turns it off, from this machine only.
//
// Ctrl-C shuts the gateway down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	gatehouseprom "github.com/gatehouse-go/gatehouse/contrib/prometheus"
	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/middleware"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gateway:", err)
		}
		os.Exit(2)
	}
}

// defaultAddr is where the gateway listens unless -addr says otherwise. If
// it is taken, the gateway takes any free port instead.
const defaultAddr = "127.0.0.1:8080"

// run is the whole demo. It returns when ctx is cancelled (Ctrl-C), after
// shutting the gateway down.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("gateway", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", defaultAddr, "listen `address`; the default falls back to a free port if it is taken")
	upstreamFlag := flags.String("upstream", "", "proxy to this `URL` instead of the embedded flaky upstream")
	brand := flags.String("brand", "Gatehouse demo", "the `name` on the error pages")
	debug := flags.Bool("debug", false, "show failure details (kind, upstream, cause) on the pages; for development only")
	templates := flags.String("templates", "", "`directory` of templates overriding the default pages (see examples/custom-template)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	addrSet := false
	flags.Visit(func(f *flag.Flag) { addrSet = addrSet || f.Name == "addr" })

	// Operators read the log: every failure is one structured record with
	// its RFC 9209 kind, the upstream and the Go error.
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	// Dashboards read the metrics: a registry of their own, served on
	// /metrics, fed by the middleware's and the pages' hooks.
	reg := prom.NewRegistry()
	metrics, err := gatehouseprom.Register(reg, gatehouseprom.Config{})
	if err != nil {
		return err
	}

	// Visitors read the pages. errorpage.New checks the brand and the
	// templates now, so that a mistake fails at start, not on a visitor.
	// PagesConfig adds the hook that counts the pages served.
	cfg := errorpage.Config{Brand: errorpage.Brand{Name: *brand}}
	if *debug {
		cfg.Debug = errorpage.Always
	}
	if *templates != "" {
		if fi, err := os.Stat(*templates); err != nil || !fi.IsDir() {
			return fmt.Errorf("-templates %q: not a directory", *templates)
		}
		cfg.Templates = os.DirFS(*templates)
	}
	pages, err := errorpage.New(metrics.PagesConfig(cfg))
	if err != nil {
		return err
	}

	var target *url.URL // nil: the embedded flaky upstream
	if *upstreamFlag != "" {
		target, err = url.Parse(*upstreamFlag)
		if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
			return fmt.Errorf("-upstream %q: want an absolute http or https URL", *upstreamFlag)
		}
	}

	ln, err := listen(*addr, addrSet)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()

	// The gateway's own transport to its upstreams: the one the zero
	// Options use (timeouts for the dial, the TLS handshake and each
	// write; 128 idle connections per host), with a shorter wait for the
	// response header, which is what bounds the stalling routes: a visitor
	// waits 2 seconds, not the default 60. A real service (-upstream) gets
	// 30 seconds to start answering.
	transport := middleware.NewGatewayTransport()
	transport.Proxy = nil // dial upstreams directly, whatever HTTP_PROXY says
	transport.ResponseHeaderTimeout = 2 * time.Second
	if target != nil {
		transport.ResponseHeaderTimeout = 30 * time.Second
	}
	defer transport.CloseIdleConnections()

	// A failed attempt is retried once when that is safe (a refused
	// connection, or an idempotent request such as these GETs), and the
	// metrics count every attempt, retry and failure.
	maint := new(middleware.Maintenance)
	opts := metrics.Options(middleware.Options{
		Pages:     pages,
		Transport: transport,
		Logger:    logger,
		Retry:     &middleware.RetryPolicy{Attempts: 2},
		// Planned downtime: /maintenance/on and /maintenance/off switch it
		// while the gateway runs.
		Maintenance: maint,
	})

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if target != nil {
		// A real service: everything goes to it.
		mux.Handle("/", middleware.NewReverseProxy(target, opts))
		fmt.Fprintf(stdout, "listening on %s\n", base)
		fmt.Fprintf(stdout, "\nThe gateway is in front of %s; its metrics are on %s/metrics. Ctrl-C stops it.\n", target.Redacted(), base)
	} else {
		// The embedded flaky upstream, and one reverse proxy per door.
		up, err := startUpstream()
		if err != nil {
			ln.Close()
			return err
		}
		defer up.Close()
		flaky := middleware.NewReverseProxy(mustParse(up.URL), opts)
		for _, path := range []string{"/ok", "/sse", "/ws", "/ws/echo", "/stall-headers", "/reset", "/garbage", "/unavailable"} {
			mux.Handle(path, flaky)
		}
		// The transport bounds the wait for headers, not for the body:
		// /stall-body gets a deadline of its own. When it passes, reading
		// the body fails (logged as a timeout), and the response, already
		// started with a 200, is aborted rather than left looking complete.
		mux.Handle("/stall-body", withTimeout(3*time.Second, flaky))
		mux.Handle("/bad-cert", middleware.NewReverseProxy(mustParse(up.BadCertURL), opts))
		// A circuit breaker in front of the port that refuses: after 6
		// refused attempts (3 visits), it answers 503 at once for 10
		// seconds, without dialling; gatehouse_breaker_state shows it.
		withBreaker := opts
		withBreaker.Breaker = &middleware.BreakerPolicy{ConsecutiveFailures: 6, OpenFor: 10 * time.Second}
		mux.Handle("/refused", middleware.NewReverseProxy(mustParse(up.RefusedURL), withBreaker))
		// Three replicas of one service, one down, one flaky, one
		// healthy: each attempt goes to one of them, a failed GET is
		// retried on another, and breakers and health checks take the
		// failing ones out. The visitor never sees a failure.
		replicaOpts := opts
		replicaOpts.Upstreams = []string{hostOf(up.RefusedURL), hostOf(up.FlakyURL), hostOf(up.URL)}
		replicaOpts.Retry = &middleware.RetryPolicy{}
		replicaOpts.Breaker = &middleware.BreakerPolicy{FailureRatio: 0.3, MinRequests: 4}
		replicaOpts.HealthCheck = &middleware.HealthCheck{Path: "/healthz", Interval: 2 * time.Second}
		replicas := middleware.NewReverseProxy(mustParse("http://replicas"), replicaOpts)
		defer middleware.ProxyTransport(replicas).Close() // stops the health checks
		mux.Handle("/replicas", replicas)
		// The gateway as its own upstream: it sees its own Via entry
		// coming back and stops the loop at once.
		// Not retried: the loop's own 502 would only go round again.
		noRetry := opts
		noRetry.Retry = nil
		mux.Handle("/loop", middleware.NewReverseProxy(mustParse(base), noRetry))
		// A bug in a handler of the gateway's own. The proxies above
		// answer their failures with pages already; middleware.Handler
		// does it for your own handlers: a panic becomes a 500 page and a
		// log record with the stack, and a 502, 503 or 504 they write is
		// replaced with the branded page.
		mux.Handle("/panic", middleware.Handler(opts)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
			panic("demo: a handler in the gateway panicked")
		})))
		mux.Handle("/{$}", indexHandler(*brand))
		mux.Handle("/maintenance/{state}", maintenanceSwitch(maint))
		fmt.Fprintf(stdout, "listening on %s\n", base)
		printMenu(stdout, base)
	}

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Ctrl-C: stop accepting, let requests in flight finish for a moment,
	// then close whatever is left (streams, stalled requests).
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	return nil
}

// hostOf returns the host:port of an absolute URL.
func hostOf(rawURL string) string { return mustParse(rawURL).Host }

// listen listens on addr. When addr is the default (not set by -addr) and
// is taken, it takes a free port on the same host instead.
func listen(addr string, explicit bool) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil || explicit {
		return ln, err
	}
	host, _, _ := net.SplitHostPort(addr)
	return net.Listen("tcp", net.JoinHostPort(host, "0"))
}

// withTimeout gives each request to next a deadline.
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// mustParse parses a URL that the demo built itself.
func mustParse(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// maintenanceSwitch turns m on for two minutes (/maintenance/on) or off
// (/maintenance/off) and sends the browser to /ok, where the maintenance
// page shows (and reloads itself when the two minutes are up). Only a
// request from this machine may switch it; the switch itself is never held
// back.
func maintenanceSwitch(m *middleware.Maintenance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			http.Error(w, "maintenance can be switched from this machine only", http.StatusForbidden)
			return
		}
		switch r.PathValue("state") {
		case "on":
			m.On(time.Now().Add(2 * time.Minute))
		case "off":
			m.Off()
		default:
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, "/ok", http.StatusSeeOther)
	})
}
