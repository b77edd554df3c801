package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/net/websocket"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// demo is the demo gateway running as a subprocess, as a new user runs it.
type demo struct {
	base   string // such as "http://127.0.0.1:PORT"
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan error
}

// startDemo builds the demo and starts it on a free port, with args added
// after -addr.
func startDemo(t *testing.T, ctx context.Context, args ...string) *demo {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build the demo with: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "gateway")
	build := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	d := &demo{stderr: new(lockedBuffer), exited: make(chan error, 1)}
	d.cmd = exec.CommandContext(ctx, bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	d.cmd.Stderr = d.stderr
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first line that matters is "listening on http://ADDR"; the rest
	// of stdout (the menu) is read and dropped so the demo never blocks.
	addr := make(chan string, 1)
	var drained sync.WaitGroup
	drained.Add(1)
	go func() {
		defer drained.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				select {
				case addr <- rest:
				default:
				}
			}
		}
	}()
	go func() {
		drained.Wait() // Wait must not run before stdout is read to its end
		d.exited <- d.cmd.Wait()
	}()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-d.exited
		if t.Failed() {
			t.Logf("demo's stderr:\n%s", d.stderr)
		}
	})

	select {
	case d.base = <-addr:
	case err := <-d.exited:
		d.exited <- err
		t.Fatalf("demo exited before listening: %v\n%s", err, d.stderr)
	case <-ctx.Done():
		t.Fatalf("demo did not print its address: %v\n%s", ctx.Err(), d.stderr)
	}
	if !strings.HasPrefix(d.base, "http://127.0.0.1:") {
		t.Fatalf("demo listens on %q, want http://127.0.0.1:PORT", d.base)
	}
	return d
}

// stop sends SIGINT and waits for a clean exit.
func (d *demo) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.exited:
		d.exited <- err // for Cleanup
		if err != nil {
			t.Errorf("demo exited with %v after SIGINT, want a clean exit", err)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("demo still running 15s after SIGINT")
	}
}

// A failure is what a failure route of the demo answers.
type failure struct {
	path   string
	status int
	kind   gatewayerr.Kind // as logged
	// proxyStatus: whether kind is also Proxy-Status's error parameter. An
	// upstream's own 503 is reported with its received-status and no error
	// of the gateway's; a panic is not a proxy's failure and gets no
	// Proxy-Status.
	proxyStatus bool
}

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d := startDemo(t, ctx)

	client := &http.Client{
		Timeout:   20 * time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}
	defer client.CloseIdleConnections()

	t.Run("index", func(t *testing.T) {
		resp, body := get(t, client, d.base+"/", "text/html")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200", resp.StatusCode)
		}
		for _, r := range demoRoutes {
			if !strings.Contains(body, `href="`+r.Path+`"`) {
				t.Errorf("index page has no link to %s", r.Path)
			}
		}
	})

	t.Run("ok", func(t *testing.T) {
		resp, body := get(t, client, d.base+"/ok", "text/html")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Hello from the upstream") {
			t.Fatalf("got %d %q, want 200 and the upstream's greeting", resp.StatusCode, body)
		}
		if ps := resp.Header.Get("Proxy-Status"); ps != "" {
			t.Errorf("Proxy-Status = %q on a success, want none", ps)
		}
	})

	t.Run("sse", func(t *testing.T) {
		// The stream lasts 10 seconds; its first event must arrive long
		// before it ends: nothing between the upstream and us buffers it.
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", d.base+"/sse", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("Content-Type = %q, want text/event-stream", ct)
		}
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || line != "id: 1\n" {
			t.Fatalf("first line = %q, %v; want the first event", line, err)
		}
	})

	t.Run("websocket", func(t *testing.T) {
		cfg, err := websocket.NewConfig("ws"+strings.TrimPrefix(d.base, "http")+"/ws/echo", d.base+"/")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Dialer = &net.Dialer{Timeout: 5 * time.Second}
		ws, err := websocket.DialConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := ws.Write([]byte("hello through the gateway")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, err := ws.Read(buf)
		if err != nil || string(buf[:n]) != "hello through the gateway" {
			t.Fatalf("echo = %q, %v", buf[:n], err)
		}
	})

	failures := []failure{
		{"/stall-headers", http.StatusGatewayTimeout, gatewayerr.HTTPResponseTimeout, true},
		{"/reset", http.StatusBadGateway, gatewayerr.ConnectionTerminated, true},
		{"/refused", http.StatusBadGateway, gatewayerr.ConnectionRefused, true},
		{"/garbage", http.StatusBadGateway, gatewayerr.HTTPProtocolError, true},
		{"/bad-cert", http.StatusBadGateway, gatewayerr.TLSCertificateError, true},
		{"/unavailable", http.StatusServiceUnavailable, gatewayerr.DestinationUnavailable, false},
		{"/loop", http.StatusBadGateway, gatewayerr.ProxyLoopDetected, true},
		{"/panic", http.StatusInternalServerError, gatewayerr.ProxyInternalError, false},
	}
	const htmlAccept = "text/html,application/xhtml+xml,*/*;q=0.8"
	// The slow routes' requests start at once, side by side, and their
	// subtests wait for the answers: the demo's test takes the time of one
	// stall instead of the sum of them.
	slow := map[string]*fetch{}
	for _, accept := range []string{htmlAccept, "application/problem+json"} {
		slow["/stall-headers "+accept] = startFetch(client, d.base+"/stall-headers", accept)
	}
	fetched := func(t *testing.T, path, accept string) (*http.Response, string) {
		t.Helper()
		if f := slow[path+" "+accept]; f != nil {
			return f.wait(t)
		}
		return get(t, client, d.base+path, accept)
	}

	// The request IDs that the proxies' pages quoted, which their log
	// records must carry too, so that an operator finds what a visitor
	// reports.
	var quoted []string
	for _, f := range failures {
		t.Run(f.path+"/html", func(t *testing.T) {
			resp, body := fetched(t, f.path, htmlAccept)
			checkFailure(t, resp, f.status, f.kind, f.proxyStatus)
			if f.proxyStatus {
				quoted = append(quoted, resp.Header.Get("X-Request-ID"))
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q, want text/html", ct)
			}
			if !strings.Contains(body, "Gatehouse demo") {
				t.Errorf("page does not carry the brand name:\n%s", body)
			}
			// The reference a visitor quotes is the one in the header.
			if id := resp.Header.Get("X-Request-ID"); id == "" || !strings.Contains(body, id) {
				t.Errorf("page does not quote its X-Request-ID %q", id)
			}
			checkNoLeak(t, resp, body)
		})
		t.Run(f.path+"/problem", func(t *testing.T) {
			resp, body := fetched(t, f.path, "application/problem+json")
			checkFailure(t, resp, f.status, f.kind, f.proxyStatus)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("Content-Type = %q, want application/problem+json", ct)
			}
			var problem struct {
				Status    int    `json:"status"`
				Title     string `json:"title"`
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal([]byte(body), &problem); err != nil {
				t.Fatalf("body is not JSON: %v\n%s", err, body)
			}
			if problem.Status != f.status || problem.Title == "" {
				t.Errorf("problem = %+v, want status %d and a title", problem, f.status)
			}
			if id := resp.Header.Get("X-Request-ID"); problem.RequestID != id {
				t.Errorf("problem's request_id = %q, X-Request-ID = %q; want the same", problem.RequestID, id)
			}
			checkNoLeak(t, resp, body)
		})
	}

	t.Run("replicas", func(t *testing.T) {
		// One replica down, one resetting every other request: the
		// visitor never sees it.
		for i := range 40 {
			resp, body := get(t, client, d.base+"/replicas", "text/html")
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "Hello from replica") {
				t.Fatalf("request %d: %d %q, want 200 from a replica", i, resp.StatusCode, body)
			}
		}
	})

	t.Run("unavailable/retry-after", func(t *testing.T) {
		resp, _ := get(t, client, d.base+"/unavailable", "text/html")
		if got := resp.Header.Get("Retry-After"); got != "120" {
			t.Errorf("Retry-After = %q, want the upstream's 120", got)
		}
	})

	t.Run("maintenance", func(t *testing.T) {
		noRedirect := &http.Client{Transport: client.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, _ := get(t, noRedirect, d.base+"/maintenance/on", "text/html")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ok" {
			t.Fatalf("/maintenance/on: %d to %q, want 303 to /ok", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := get(t, client, d.base+"/ok", "text/html")
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "maintenance") {
			t.Errorf("/ok during maintenance: %d\n%s", resp.StatusCode, body)
		}
		if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 120 {
			t.Errorf("Retry-After = %q, want at most 120", resp.Header.Get("Retry-After"))
		}
		checkFailure(t, resp, http.StatusServiceUnavailable, gatewayerr.DestinationUnavailable, true)
		get(t, noRedirect, d.base+"/maintenance/off", "text/html")
		if resp, _ := get(t, client, d.base+"/ok", "text/html"); resp.StatusCode != http.StatusOK {
			t.Errorf("/ok after maintenance: %d", resp.StatusCode)
		}
	})

	t.Run("stall-body", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, "GET", d.base+"/stall-body", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want the upstream's 200", resp.StatusCode)
		}
		// The response must end as broken, not as a complete short body.
		body, err := io.ReadAll(resp.Body)
		if err == nil {
			t.Fatalf("body read to a clean end (%q), want an error", body)
		}
		if !strings.HasPrefix(string(body), "The first half") {
			t.Errorf("body = %q, want the first half that was sent", body)
		}
	})
	failures = append(failures, failure{"/stall-body", http.StatusOK, gatewayerr.ConnectionReadTimeout, false})

	t.Run("metrics", func(t *testing.T) {
		resp, body := get(t, client, d.base+"/metrics", "text/plain")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200", resp.StatusCode)
		}
		// Each failure route was visited twice (HTML, problem+json).
		for _, want := range []string{
			`gatehouse_upstream_failures_total{kind="connection_refused",status="502",upstream="127.0.0.1:\d+"} 2`,
			`gatehouse_upstream_failures_total{kind="http_response_timeout",status="504",upstream="127.0.0.1:\d+"} 2`,
			`gatehouse_upstream_failures_total{kind="proxy_internal_error",status="500",upstream=""} 2`,
			// /refused: two visits of two attempts each, one retry each;
			// its breaker, closed.
			`gatehouse_upstream_attempts_total{outcome="failure",upstream="127.0.0.1:\d+"} \d+`,
			`gatehouse_retries_total{upstream="127.0.0.1:\d+"} \d+`,
			`gatehouse_breaker_state{upstream="127.0.0.1:\d+"} 0`,
			`gatehouse_pages_total{format="html",kind="connection_refused",status="502"} 1`,
			`gatehouse_pages_total{format="problem\+json",kind="connection_refused",status="502"} 1`,
			`gatehouse_pages_total{format="html",kind="proxy_internal_error",status="500"} 1`,
		} {
			if !regexp.MustCompile(`(?m)^` + want + `$`).MatchString(body) {
				t.Errorf("/metrics has no line matching %s", want)
			}
		}
		if t.Failed() {
			t.Logf("/metrics:\n%s", body)
		}
	})

	// Every failure is a structured record naming its kind. The log is
	// read once the demo has exited, when all it wrote has been copied.
	d.stop(t)
	logs := d.stderr.String()
	for _, f := range failures {
		if !strings.Contains(logs, "kind="+f.kind.String()) && !strings.Contains(logs, "error.type="+f.kind.String()) {
			t.Errorf("log has no record of %s", f.kind)
		}
	}
	for _, id := range quoted {
		if !strings.Contains(logs, "request_id="+id) {
			t.Errorf("log has no record with request_id=%s, the ID a page quoted", id)
		}
	}
}

// get fetches url with the given Accept header and returns the response and
// its body.
func get(t *testing.T, client *http.Client, url, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body of %s: %v", url, err)
	}
	return resp, string(body)
}

// fetch is a GET started in the background by startFetch.
type fetch struct {
	done chan struct{}
	resp *http.Response
	body string
	err  error
}

// startFetch starts a GET of url with the given Accept field.
func startFetch(client *http.Client, url, accept string) *fetch {
	f := &fetch{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			f.err = err
			return
		}
		req.Header.Set("Accept", accept)
		resp, err := client.Do(req)
		if err != nil {
			f.err = err
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		f.resp, f.body, f.err = resp, string(body), err
	}()
	return f
}

// wait returns the answer, as get does.
func (f *fetch) wait(t *testing.T) (*http.Response, string) {
	t.Helper()
	<-f.done
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.resp, f.body
}

// checkFailure checks a failure's status and, if proxyStatus, that its
// Proxy-Status header reports kind.
func checkFailure(t *testing.T, resp *http.Response, status int, kind gatewayerr.Kind, proxyStatus bool) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d", resp.StatusCode, status)
	}
	if !proxyStatus {
		return
	}
	members, err := gatewayerr.ParseProxyStatus(strings.Join(resp.Header.Values("Proxy-Status"), ", "))
	if err != nil || len(members) == 0 {
		t.Fatalf("Proxy-Status %q: %v, want a member", resp.Header.Values("Proxy-Status"), err)
	}
	// The member with an error parameter names the failure: the gateway's
	// own (last), or, for a loop, the inner pass's, which the outer one
	// keeps ahead of its own.
	var errs []string
	for _, m := range members {
		if m.Error != "" {
			errs = append(errs, m.Error)
		}
	}
	if !slices.Contains(errs, kind.String()) {
		t.Errorf("Proxy-Status %q reports errors %q, want %s", resp.Header.Values("Proxy-Status"), errs, kind)
	}
}

// checkNoLeak checks that a response shows no internal detail, neither in
// its body nor in its headers: no upstream address, no Go error text, no
// stack.
func checkNoLeak(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	var header strings.Builder
	resp.Header.Write(&header)
	for _, secret := range []string{"127.0.0.1", "dial tcp", "goroutine", "x509", "panicked"} {
		if strings.Contains(body, secret) {
			t.Errorf("page shows %q to visitors:\n%s", secret, body)
		}
		if strings.Contains(header.String(), secret) {
			t.Errorf("headers show %q to visitors:\n%s", secret, header.String())
		}
	}
}

func TestDemoFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the demo")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// A real service in front of which the gateway stands: this one is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()

	d := startDemo(t, ctx, "-upstream", down, "-brand", "Acme Shop", "-debug", "-templates", "../custom-template/templates")
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	defer client.CloseIdleConnections()

	resp, body := get(t, client, d.base+"/any/path", "text/html")
	checkFailure(t, resp, http.StatusBadGateway, gatewayerr.ConnectionRefused, true)
	if !strings.Contains(body, "Acme Shop") {
		t.Errorf("page does not carry the -brand name:\n%s", body)
	}
	// -debug shows the details that are otherwise hidden.
	if !strings.Contains(body, "connection_refused") {
		t.Errorf("-debug page does not show the kind:\n%s", body)
	}
	// -templates: the footer of examples/custom-template.
	if !strings.Contains(body, "Acme Shop Ltd.") {
		t.Errorf("page does not use the -templates footer:\n%s", body)
	}
	d.stop(t)
}

func TestDemoBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-upstream", "not a url"},
		{"-upstream", "ftp://127.0.0.1/"},
		{"-templates", "/nonexistent-directory"},
		{"-nosuchflag"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stderr bytes.Buffer
			err := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, &stderr)
			if err == nil {
				t.Fatalf("run %q succeeded, want an error", args)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer safe for the subprocess's writer and the
// test's reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
