package errorpage

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// wireBudget is what the complete default HTTP/1.1 response for an English
// 502, 503 or 504 page (status line, every header, body) may take: net/http
// buffers a response in 4096 bytes, and one that fits is written in a
// single write. The 160 bytes kept free are for the headers a gateway's
// middleware adds, such as "Proxy-Status: gatehouse;
// error=connection_refused" and Via.
const wireBudget = 4096 - 160

// TestWireSizeFitsOneWrite serves every English 502, 503 and 504 page (each
// copy the failures of those statuses get, and each status's own page) from
// a real server and measures the response as a client reads it off the
// connection. It logs the largest response of each status in every language.
func TestWireSizeFitsOneWrite(t *testing.T) {
	p := newPages(t, Config{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if s := q.Get("status"); s != "" {
			n, _ := strconv.Atoi(s)
			p.ServeStatus(w, r, n)
			return
		}
		k, _ := gatewayerr.ParseKind(q.Get("kind"))
		recv, _ := strconv.Atoi(q.Get("received"))
		p.ServeError(w, r, &gatewayerr.Error{Kind: k, ReceivedStatus: recv})
	}))
	defer srv.Close()

	// The variants: each status's own page, then one failure per copy and
	// status, as the upstream's own response or not.
	type variant struct {
		status int
		name   string
		query  url.Values
	}
	var variants []variant
	seen := make(map[[2]int]bool)
	for _, status := range []int{502, 503, 504} {
		variants = append(variants, variant{status, "ServeStatus", url.Values{"status": {strconv.Itoa(status)}}})
	}
	for _, k := range gatewayerr.Kinds() {
		for _, recv := range []int{0, 502, 503, 504} {
			ge := &gatewayerr.Error{Kind: k, ReceivedStatus: recv}
			status := ge.StatusCode()
			key := [2]int{status, int(groupOfKind(k, recv, status))}
			if k == gatewayerr.ClientClosedRequest || status < 502 || status > 504 || seen[key] {
				continue
			}
			seen[key] = true
			q := url.Values{"kind": {k.String()}}
			name := k.String()
			if recv != 0 {
				q.Set("received", strconv.Itoa(recv))
				name += fmt.Sprintf(" (received %d)", recv)
			}
			variants = append(variants, variant{status, name, q})
		}
	}

	addr := srv.Listener.Addr().String()
	for _, lang := range Languages() {
		largest := map[int]int{}
		for _, v := range variants {
			n := wireSize(t, addr, "/?"+v.query.Encode(), lang, v.status)
			largest[v.status] = max(largest[v.status], n)
			if lang == "en" && n > wireBudget {
				t.Errorf("en %d %s: the response takes %d bytes, want at most %d (4096 less %d for Proxy-Status and Via)", v.status, v.name, n, wireBudget, 4096-wireBudget)
			}
		}
		t.Logf("%-5s 502: %4d  503: %4d  504: %4d bytes on the wire", lang, largest[502], largest[503], largest[504])
	}
}

// wireSize sends a keep-alive GET of target, as a browser would ask for the
// page, to the server at addr and returns the size of the response as read
// off the connection: status line, headers and body.
func wireSize(t *testing.T, addr, target, lang string, status int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	req := "GET " + target + " HTTP/1.1\r\nHost: " + addr + "\r\n" +
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
		"Accept-Language: " + lang + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	cr := &countingReader{r: conn}
	br := bufio.NewReader(cr)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != HTML.ContentType() || int64(len(body)) != resp.ContentLength || resp.Close {
		t.Fatalf("GET %s (%s): status %d, Content-Type %q, %d bytes of Content-Length %d, close %v; want a %d HTML page on a kept-alive connection",
			target, lang, resp.StatusCode, resp.Header.Get("Content-Type"), len(body), resp.ContentLength, resp.Close, status)
	}
	return cr.n - br.Buffered()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += n
	return n, err
}
