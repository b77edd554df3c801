package faulttest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"
)

// authority is a tiny certificate authority generated at run time.
type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
	pool *x509.CertPool // holds cert
}

// newAuthority generates an ECDSA P-256 CA named name.
func newAuthority(t testing.TB, name string) *authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("faulttest: CA key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("faulttest: CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("faulttest: CA certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &authority{cert: cert, key: key, pool: pool}
}

// leafSpec describes a server certificate.
type leafSpec struct {
	dnsNames   []string
	ips        []net.IP
	notBefore  time.Time // zero: an hour ago
	notAfter   time.Time // zero: a day from now
	selfSigned bool      // sign with its own key rather than the authority's
}

// issue returns a server certificate with its key, signed by a (or by itself).
func (a *authority) issue(t testing.TB, spec leafSpec) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("faulttest: key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: "faulttest"},
		NotBefore:    spec.notBefore,
		NotAfter:     spec.notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     spec.dnsNames,
		IPAddresses:  spec.ips,
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = now.Add(-time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = now.Add(24 * time.Hour)
	}
	parent, signer := a.cert, a.key
	if spec.selfSigned {
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatalf("faulttest: certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("faulttest: serial number: %v", err)
	}
	return n
}

var loopbackIP = []net.IP{net.IPv4(127, 0, 0, 1)}

// okHandler answers every request with 200 and "ok".
func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		drain(r)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok"))
	})
}

// newTLSServer starts a net/http server over TLS, answering 200 "ok", with a
// certificate described by leaf and signed by a new CA that RootCAs holds
// (or by itself, as leaf says). cfg, if not nil, is the base TLS config.
func newTLSServer(t testing.TB, scheme string, leaf leafSpec, cfg *tls.Config) *Server {
	t.Helper()
	ca := newAuthority(t, "faulttest CA")
	cert := ca.issue(t, leaf)
	s := newServer(t, scheme)
	s.RootCAs = ca.pool
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg.Certificates = []tls.Certificate{cert}
	cfg.NextProtos = []string{"http/1.1"}
	s.serveHTTP(okHandler(), cfg)
	return s
}

// TLS returns a correct HTTPS server, for contrast with the TLS faults: its
// certificate, for 127.0.0.1, is signed by the CA in RootCAs. It answers
// every request with 200 and "ok" over HTTP/1.1.
//
// A transport from [Server.Transport] gets the response and no error.
//
// Kind: none.
func TLS(t testing.TB) *Server {
	t.Helper()
	return newTLSServer(t, "https", leafSpec{ips: loopbackIP}, nil)
}

// TLSSelfSigned returns an HTTPS server whose certificate, for 127.0.0.1,
// is self-signed. RootCAs holds an unrelated CA, so that the client does not
// fall back to the system's roots and the failure does not depend on the
// machine.
//
// A plain http.Transport fails with a *tls.CertificateVerificationError
// whose Err is an x509.UnknownAuthorityError.
//
// Kind: tls_certificate_error.
func TLSSelfSigned(t testing.TB) *Server {
	t.Helper()
	return newTLSServer(t, "https", leafSpec{ips: loopbackIP, selfSigned: true}, nil)
}

// TLSExpired returns an HTTPS server whose certificate, for 127.0.0.1 and
// signed by the CA in RootCAs, expired a day ago.
//
// A plain http.Transport fails with a *tls.CertificateVerificationError
// whose Err is an x509.CertificateInvalidError with Reason x509.Expired.
//
// Kind: tls_certificate_error.
func TLSExpired(t testing.TB) *Server {
	t.Helper()
	now := time.Now()
	return newTLSServer(t, "https", leafSpec{ips: loopbackIP, notBefore: now.Add(-48 * time.Hour), notAfter: now.Add(-24 * time.Hour)}, nil)
}

// TLSWrongHost returns an HTTPS server whose certificate is signed by the
// CA in RootCAs but names only "wrong-host.test", not 127.0.0.1.
//
// A plain http.Transport fails with a *tls.CertificateVerificationError
// whose Err is an x509.HostnameError.
//
// Kind: tls_certificate_error.
func TLSWrongHost(t testing.TB) *Server {
	t.Helper()
	return newTLSServer(t, "https", leafSpec{dnsNames: []string{"wrong-host.test"}}, nil)
}

// TLSToPlain returns a plain HTTP server with an https:// URL, as when a
// gateway is configured for TLS towards an upstream that does not speak it.
// RootCAs holds an unrelated CA.
//
// A plain http.Transport fails with a tls.RecordHeaderError ("tls: first
// record does not look like a TLS handshake"); its Conn field is the
// connection, and RecordHeader holds the bytes the server sent ("HTTP/").
//
// Kind: tls_protocol_error.
func TLSToPlain(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "https")
	s.RootCAs = newAuthority(t, "faulttest CA").pool
	s.serveHTTP(okHandler(), nil)
	return s
}

// PlainToTLS returns an HTTPS server (net/http's) with an http:// URL, as
// when a gateway speaks plain HTTP to a TLS port.
//
// There is no error: net/http's TLS server recognises the plain request and
// answers "400 Bad Request" with the body "Client sent an HTTP request to an
// HTTPS server.\n". Other servers (nginx) also answer 400; some send a TLS
// alert that the client reads as a malformed HTTP response.
//
// Kind: none: a 400 is not a gateway failure.
func PlainToTLS(t testing.TB) *Server {
	t.Helper()
	return newTLSServer(t, "http", leafSpec{ips: loopbackIP}, nil)
}

// TLSClientCertRequired returns an HTTPS server, trusted through RootCAs,
// that requires a client certificate; a client that sends none gets a TLS
// alert.
//
// With TLS 1.3 (the default) the client's handshake completes before the
// server checks, so the alert arrives when the client reads the response:
// RoundTrip fails with a *net.OpError whose Op is "remote error" and whose
// Err is crypto/tls's unexported alert type (a uint8, here 116,
// "tls: certificate required"), itself wrapped in an unexported
// permanentError. errors.As with a tls.AlertError does not match it: only
// QUIC connections return tls.AlertError; reflect on the Err's uint8 value
// to read the alert number. With TLS 1.2 (Transport.TLSClientConfig.MaxVersion)
// the same error comes from the handshake with alert 40,
// "tls: handshake failure".
//
// Kind: tls_alert_received.
func TLSClientCertRequired(t testing.TB) *Server {
	t.Helper()
	return newTLSServer(t, "https", leafSpec{ips: loopbackIP}, &tls.Config{ClientAuth: tls.RequireAnyClientCert})
}

// TLSHandshakeStall returns a server with an https:// URL that accepts each
// connection, reads the ClientHello and never answers, until Close. RootCAs
// holds an unrelated CA.
//
// A plain http.Transport fails, after Transport.TLSHandshakeTimeout, with a
// net.Error whose Timeout is true and whose text is "net/http: TLS handshake
// timeout" (an unexported type), or with context.DeadlineExceeded when the
// caller's context ends first.
//
// Kind: connection_timeout with TLSHandshakeTimeout; with the caller's deadline,
// http_response_timeout from the error alone and connection_timeout for a
// client that knows the handshake was under way.
func TLSHandshakeStall(t testing.TB) *Server {
	t.Helper()
	s := newServer(t, "https")
	s.RootCAs = newAuthority(t, "faulttest CA").pool
	s.serveConns(stall)
	return s
}

// PlainToTLSHangUp returns a TLS-only server with an http:// URL: a TLS
// terminator that is not an HTTP server (as HAProxy, Envoy or stunnel in
// front of an application), which hangs up on a client that does not start
// with a TLS handshake. Compare [PlainToTLS], where net/http's own TLS
// server answers the plain request with a 400.
//
// A plain http.Transport fails with io.EOF, or a *net.OpError wrapping
// syscall.ECONNRESET when the server's kernel resets the connection because
// the request was not read in full.
//
// Kind: connection_terminated.
func PlainToTLSHangUp(t testing.TB) *Server {
	t.Helper()
	ca := newAuthority(t, "faulttest CA")
	cfg := &tls.Config{Certificates: []tls.Certificate{ca.issue(t, leafSpec{ips: loopbackIP})}}
	s := newServer(t, "http")
	s.RootCAs = ca.pool
	s.serveConns(func(c net.Conn) {
		// The handshake fails on the first record, "GET / HTTP/1.1...".
		tls.Server(c, cfg).Handshake()
	})
	return s
}

// HTTP2ToHTTP1 returns a correct HTTPS server, like [TLS], that speaks only
// HTTP/1.1 (ALPN "http/1.1"), and whose [Server.Transport] speaks only
// HTTP/2 (its Protocols allow HTTP/2 alone): a client configured for HTTP/2
// in front of an upstream that never upgraded.
//
// The server rejects the client's ALPN offer of "h2" alone with a TLS
// alert: RoundTrip fails with a *net.OpError (Op "remote error") whose text
// is "remote error: tls: no application protocol" (alert 120). A client
// that also offers "http/1.1" gets the response and no error.
//
// Kind: tls_alert_received.
func HTTP2ToHTTP1(t testing.TB) *Server {
	t.Helper()
	s := newTLSServer(t, "https", leafSpec{ips: loopbackIP}, nil)
	s.protocols = new(http.Protocols)
	s.protocols.SetHTTP2(true)
	return s
}
