package faulttest

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// Status returns a well-behaved HTTP/1.1 server that answers every request
// with code, the fields of header (which may be nil) and body. It drains the
// request body first.
//
// It stands for an upstream's own error responses: a 502 or 504 from a proxy
// further up with a Proxy-Status chain, a 503 with Retry-After in seconds or
// as an HTTP-date. A plain http.Transport returns the response and no error.
//
// Kind: gatewayerr.ClassifyResponse of the response: the kind of its first
// Proxy-Status member with an error, else 503 destination_unavailable, 504
// http_response_timeout, 502 Unknown; none for other statuses.
func Status(t testing.TB, code int, header http.Header, body string) *Server {
	t.Helper()
	s := newServer(t, "http")
	header = header.Clone()
	s.serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		for k, vs := range header {
			w.Header()[k] = vs
		}
		if header.Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(code)
		if r.Method != http.MethodHead {
			w.Write([]byte(body))
		}
	}), nil)
	return s
}

// MaxLoopHops is the number of Via entries naming a [Loop] server after which
// it stops forwarding and answers 508 Loop Detected itself, so that a loop
// the gateway under test fails to detect still ends.
const MaxLoopHops = 8

// Loop returns an HTTP/1.1 server that forwards every request to target
// (such as the URL of the gateway under test), adding "1.1 via" to its Via
// field, to build a proxy loop: gateway -> Loop -> gateway -> ...
//
// The server is a plain httputil.ReverseProxy with its own transport (no
// proxy from the environment). Once the request's Via names via
// [MaxLoopHops] times, it answers 508 Loop Detected instead of forwarding.
// A target that cannot be reached yields the ReverseProxy's default 502.
//
// Kind: proxy_loop_detected, from a gateway that detects the loop.
func Loop(t testing.TB, target string, via string) *Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("faulttest: Loop target: %v", err)
	}
	s := newServer(t, "http")
	tr := &http.Transport{Proxy: nil}
	s.onClose = append(s.onClose, tr.CloseIdleConnections)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Add("Via", "1.1 "+via)
		},
		Transport: tr,
		ErrorLog:  discardLogger(),
	}
	s.serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if viaCount(r.Header.Values("Via"), via) >= MaxLoopHops {
			drain(r)
			http.Error(w, "loop detected", http.StatusLoopDetected)
			return
		}
		rp.ServeHTTP(w, r)
	}), nil)
	return s
}

// viaCount returns how many members of the Via field values name pseudonym.
func viaCount(values []string, pseudonym string) int {
	n := 0
	for _, v := range values {
		for member := range strings.SplitSeq(v, ",") {
			fields := strings.Fields(member)
			if len(fields) >= 2 && fields[1] == pseudonym {
				n++
			}
		}
	}
	return n
}

// UpstreamGatewayName is the name by which an [UpstreamGateway] calls
// itself in the Proxy-Status members it adds.
const UpstreamGatewayName = "upstream-gateway"

// UpstreamGateway returns an HTTP/1.1 server that is itself a gateway, for
// chains of proxies: a plain httputil.ReverseProxy to target (such as the
// URL of another fault) with its own transport (no proxy from the
// environment, a 5-second dial timeout). When a round trip fails, it
// answers as a gateway should, with the status of gatewayerr.Classify's
// kind, an empty body and a Proxy-Status member named
// [UpstreamGatewayName] with the error type and no details; for example,
// in front of [Refused]:
//
//	HTTP/1.1 502 Bad Gateway
//	Proxy-Status: upstream-gateway; error=connection_refused
//
// A plain http.Transport returns that response and no error;
// gatewayerr.ClassifyResponse reads its kind from the Proxy-Status member.
//
// Kind: the upstream gateway's own, read by gatewayerr.ClassifyResponse from its
// Proxy-Status member (connection_refused in front of [Refused]).
func UpstreamGateway(t testing.TB, target string) *Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("faulttest: UpstreamGateway target: %v", err)
	}
	s := newServer(t, "http")
	tr := &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	s.onClose = append(s.onClose, tr.CloseIdleConnections)
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(u) },
		Transport: tr,
		ErrorLog:  discardLogger(),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			e := gatewayerr.Classify(err)
			gatewayerr.AppendProxyStatus(w.Header(), e.ProxyStatus(UpstreamGatewayName, false))
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(e.StatusCode())
		},
	}
	s.serveHTTP(rp, nil)
	return s
}
