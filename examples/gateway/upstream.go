package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/net/websocket"
)

// This file is the demo's deliberately flaky upstream: the service that the
// gateway in main.go stands in front of. Nothing here uses Gatehouse; it is
// an ordinary net/http server that misbehaves in the ways real upstreams do.
// It listens only on 127.0.0.1, on ports the kernel picks.

// stallFor bounds how long the stalling routes hold a request when nothing
// cancels it first. The gateway gives up much sooner (see main.go), which
// cancels the request and ends the stall.
const stallFor = time.Minute

// flakyUpstream is the running upstream: the base URL of each of its doors.
type flakyUpstream struct {
	// URL serves the plain HTTP routes (see handler).
	URL string
	// BadCertURL speaks HTTPS with a self-signed certificate that no
	// client trusts.
	BadCertURL string
	// RefusedURL points at a local port on which nothing listens.
	RefusedURL string
	// FlakyURL serves /replicas too, but resets every other request
	// (and answers /healthz), as a replica that crashes under load does.
	FlakyURL string

	servers []*http.Server
}

// startUpstream starts the flaky upstream's listeners and servers.
func startUpstream() (*flakyUpstream, error) {
	u := new(flakyUpstream)
	// The upstream's own servers log nothing: the handshake failures and
	// hang-ups it provokes are the point of the demo, and the gateway logs
	// them (classified) anyway.
	quiet := log.New(io.Discard, "", 0)

	// The plain HTTP door, with every route.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	plain := &http.Server{Handler: upstreamHandler(), ErrorLog: quiet, ReadHeaderTimeout: 10 * time.Second}
	u.URL = "http://" + ln.Addr().String()
	u.servers = append(u.servers, plain)
	go plain.Serve(ln)

	// The HTTPS door: a certificate made up now, signed by nobody.
	cert, err := selfSignedCertificate()
	if err != nil {
		u.Close()
		return nil, err
	}
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		u.Close()
		return nil, err
	}
	secure := &http.Server{
		Handler:           upstreamHandler(),
		ErrorLog:          quiet,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
	}
	u.BadCertURL = "https://" + ln.Addr().String()
	u.servers = append(u.servers, secure)
	go secure.ServeTLS(ln, "", "")

	// The refusing door: a port that was free a moment ago. Connecting to
	// a closed local port is refused at once.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		u.Close()
		return nil, err
	}
	u.RefusedURL = "http://" + ln.Addr().String()
	ln.Close()

	// The flaky replica of /replicas.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		u.Close()
		return nil, err
	}
	flaky := &http.Server{Handler: flakyReplicaHandler(), ErrorLog: quiet, ReadHeaderTimeout: 10 * time.Second}
	u.FlakyURL = "http://" + ln.Addr().String()
	u.servers = append(u.servers, flaky)
	go flaky.Serve(ln)

	return u, nil
}

// Close stops the upstream at once, dropping any stalled request.
func (u *flakyUpstream) Close() {
	for _, s := range u.servers {
		s.Close()
	}
}

// upstreamHandler returns the upstream's routes. Their paths are the same
// as the gateway's, so that a request passes through unchanged.
func upstreamHandler() http.Handler {
	mux := http.NewServeMux()

	// /ok succeeds: the gateway stays out of the way.
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "Hello from the upstream. This response passed through the gateway untouched.")
	})

	// /sse streams server-sent events, one a second: each arrives at once,
	// because the gateway neither buffers nor hides http.Flusher.
	mux.HandleFunc("GET /sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		rc := http.NewResponseController(w)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := 1; i <= 10; i++ {
			fmt.Fprintf(w, "id: %d\ndata: tick %d of 10 at %s\n\n", i, i, time.Now().Format(time.TimeOnly))
			if err := rc.Flush(); err != nil {
				return
			}
			select {
			case <-tick.C:
			case <-r.Context().Done():
				return
			}
		}
	})

	// /ws is a page that opens a WebSocket to /ws/echo, which echoes every
	// message: the upgrade passes through the gateway, because it does not
	// hide http.Hijacker.
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, wsPage)
	})
	mux.Handle("GET /ws/echo", websocket.Handler(func(ws *websocket.Conn) {
		io.Copy(ws, ws)
	}))

	// /stall-headers never answers: the gateway's response-header timeout
	// turns the wait into a 504.
	mux.HandleFunc("GET /stall-headers", func(w http.ResponseWriter, r *http.Request) {
		stall(r)
	})

	// /stall-body streams its headers and the first half of a body, then
	// stops sending. The gateway has already passed the 200 on, so it
	// cannot send an error page any more; it aborts the response instead of
	// letting it look complete, and logs why.
	mux.HandleFunc("GET /stall-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "The first half of the body arrived; the second half never will.\n")
		http.NewResponseController(w).Flush()
		stall(r)
	})

	// /reset reads the request, then resets the connection (a TCP RST)
	// without a word, as a crashing process does.
	mux.HandleFunc("/reset", func(w http.ResponseWriter, r *http.Request) {
		resetConnection(w)
	})

	// /garbage answers with something that is not HTTP: an SSH banner,
	// as when a gateway is pointed at the wrong port.
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer conn.Close()
		buf.WriteString("SSH-2.0-OpenSSH_9.6\r\n\r\n")
		buf.Flush()
	})

	// /replicas is the healthy one of three replicas (see
	// flakyReplicaHandler; the third is down).
	mux.HandleFunc("GET /replicas", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello from replica 3 of 3, the healthy one. Replica 1 is down and replica 2 resets every other request: the gateway moved past them.\n")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})

	// /unavailable is temporarily unavailable and says when to come back.
	mux.HandleFunc("/unavailable", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "upstream: temporarily unavailable (this plain-text body is replaced by the gateway)\n")
	})

	return mux
}

// flakyReplicaHandler is replica 2 of /replicas: it passes its health
// checks, and resets every other request to /replicas.
func flakyReplicaHandler() http.Handler {
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /replicas", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 1 {
			resetConnection(w)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Hello from replica 2 of 3, the flaky one: it answered this time.\n")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	return mux
}

// resetConnection resets the request's connection (a TCP RST) without a
// word, as a crashing process does.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // close with RST instead of FIN
	}
	conn.Close()
}

// stall holds the request until the gateway gives up on it or stallFor
// passes.
func stall(r *http.Request) {
	t := time.NewTimer(stallFor)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
	}
}

// selfSignedCertificate makes a certificate for 127.0.0.1 that is signed by
// its own key, so that no client trusts it.
func selfSignedCertificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "flaky upstream (self-signed)"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, errors.Join(errors.New("self-signed certificate"), err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// wsPage is the little page behind /ws: it echoes what you type through a
// WebSocket that passes through the gateway.
const wsPage = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WebSocket echo through the gateway</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}
input{font:inherit;width:70%}pre{background:#f4f4f5;padding:1rem;min-height:6rem}</style>
<h1>WebSocket echo</h1>
<p>This page opens a WebSocket to <code>/ws/echo</code> through the gateway. Type and press Enter; the upstream echoes it back.</p>
<form id="f"><input id="m" autocomplete="off" placeholder="say something"> <button>Send</button></form>
<pre id="log"></pre>
<p><a href="/">Back to the menu</a></p>
<script>
const log = document.getElementById("log");
const say = (s) => { log.textContent += s + "\n"; };
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/echo");
ws.onopen = () => say("connected");
ws.onmessage = (e) => say("echo: " + e.data);
ws.onclose = () => say("closed");
document.getElementById("f").onsubmit = (e) => {
  e.preventDefault();
  const m = document.getElementById("m");
  if (m.value) { ws.send(m.value); m.value = ""; }
};
</script>
</html>
`
