package faulttest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// alertID returns the number of a TLS alert received from the peer, which
// crypto/tls reports as a *net.OpError with Op "remote error" wrapping an
// unexported uint8 type.
func alertID(err error) (uint8, bool) {
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "remote error" {
		return 0, false
	}
	v := reflect.ValueOf(opErr.Err)
	if v.Kind() != reflect.Uint8 || v.Type().PkgPath() != "crypto/tls" {
		return 0, false
	}
	return uint8(v.Uint()), true
}

func TestTLSFaults(t *testing.T) {
	tests := []struct {
		name  string
		start func(testing.TB) *Server
		setup func(*http.Transport)
		check func(*testing.T, result)
	}{
		{
			name:  "TLS",
			start: TLS,
			check: func(t *testing.T, r result) {
				if r.rtErr != nil || r.status != http.StatusOK || r.body != "ok" {
					t.Fatalf("got %+v, want 200 \"ok\"", r)
				}
			},
		},
		{
			name:  "TLSSelfSigned",
			start: TLSSelfSigned,
			check: func(t *testing.T, r result) {
				var verr *tls.CertificateVerificationError
				var uerr x509.UnknownAuthorityError
				if !errors.As(r.rtErr, &verr) || !errors.As(r.rtErr, &uerr) {
					t.Fatalf("RoundTrip error = %v, want a *tls.CertificateVerificationError wrapping x509.UnknownAuthorityError", r.rtErr)
				}
			},
		},
		{
			name:  "TLSExpired",
			start: TLSExpired,
			check: func(t *testing.T, r result) {
				var verr *tls.CertificateVerificationError
				var cerr x509.CertificateInvalidError
				if !errors.As(r.rtErr, &verr) || !errors.As(r.rtErr, &cerr) || cerr.Reason != x509.Expired {
					t.Fatalf("RoundTrip error = %v, want a *tls.CertificateVerificationError wrapping x509.CertificateInvalidError{Reason: Expired}", r.rtErr)
				}
			},
		},
		{
			name:  "TLSWrongHost",
			start: TLSWrongHost,
			check: func(t *testing.T, r result) {
				var verr *tls.CertificateVerificationError
				var herr x509.HostnameError
				if !errors.As(r.rtErr, &verr) || !errors.As(r.rtErr, &herr) || herr.Host != "127.0.0.1" {
					t.Fatalf("RoundTrip error = %v, want a *tls.CertificateVerificationError wrapping x509.HostnameError for 127.0.0.1", r.rtErr)
				}
			},
		},
		{
			name:  "TLSToPlain",
			start: TLSToPlain,
			check: func(t *testing.T, r result) {
				var rerr tls.RecordHeaderError
				if !errors.As(r.rtErr, &rerr) || string(rerr.RecordHeader[:]) != "HTTP/" {
					t.Fatalf("RoundTrip error = %#v, want a tls.RecordHeaderError with header \"HTTP/\"", r.rtErr)
				}
				if rerr.Conn != nil {
					rerr.Conn.Close()
				}
			},
		},
		{
			name:  "HTTP2ToHTTP1",
			start: HTTP2ToHTTP1,
			check: func(t *testing.T, r result) {
				var opErr *net.OpError
				if !errors.As(r.rtErr, &opErr) || opErr.Op != "remote error" || !strings.Contains(r.rtErr.Error(), "no application protocol") {
					t.Fatalf("RoundTrip error = %v, want a remote error \"no application protocol\"", r.rtErr)
				}
			},
		},
		{
			name:  "HTTP2ToHTTP1, a client that also offers HTTP/1.1",
			start: HTTP2ToHTTP1,
			setup: func(tr *http.Transport) { tr.Protocols.SetHTTP1(true) },
			check: func(t *testing.T, r result) {
				if r.rtErr != nil || r.status != http.StatusOK || r.body != "ok" {
					t.Fatalf("got %+v, want 200 \"ok\"", r)
				}
			},
		},
		{
			name:  "PlainToTLS",
			start: PlainToTLS,
			check: func(t *testing.T, r result) {
				want := result{status: http.StatusBadRequest, body: "Client sent an HTTP request to an HTTPS server.\n"}
				if r.rtErr != nil || r.status != want.status || r.body != want.body {
					t.Fatalf("got %+v, want %+v", r, want)
				}
			},
		},
		{
			name:  "TLSClientCertRequired/TLS1.3",
			start: TLSClientCertRequired,
			check: wantAlert(116),
		},
		{
			name:  "TLSClientCertRequired/TLS1.2",
			start: TLSClientCertRequired,
			setup: func(tr *http.Transport) { tr.TLSClientConfig.MaxVersion = tls.VersionTLS12 },
			check: wantAlert(40),
		},
		{
			name:  "TLSHandshakeStall",
			start: TLSHandshakeStall,
			setup: func(tr *http.Transport) { tr.TLSHandshakeTimeout = 200 * time.Millisecond },
			check: wantTimeout("TLS handshake timeout", false),
		},
		{
			name:  "TLSHandshakeStall/context",
			start: TLSHandshakeStall,
			setup: func(tr *http.Transport) { tr.TLSHandshakeTimeout = 0 },
			check: wantRoundTripErr(context.DeadlineExceeded),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.start(t)
			tr := s.Transport()
			if tt.setup != nil {
				tt.setup(tr)
			}
			timeout := 3 * time.Second
			if tt.name == "TLSHandshakeStall/context" {
				timeout = 200 * time.Millisecond
			}
			tt.check(t, roundTrip(t, tr, s.URL, nil, timeout))
		})
	}
}

func wantAlert(id uint8) func(*testing.T, result) {
	return func(t *testing.T, r result) {
		t.Helper()
		got, ok := alertID(r.rtErr)
		if !ok || got != id {
			t.Fatalf("RoundTrip error = %v, want a received TLS alert %d", r.rtErr, id)
		}
		if errors.As(r.rtErr, new(tls.AlertError)) {
			t.Errorf("errors.As(%v, *tls.AlertError) = true; the doc says it does not match over TCP", r.rtErr)
		}
	}
}

// TestTLSClientCertAccepted checks the contrast: a client with a
// certificate gets through TLSClientCertRequired's server.
func TestTLSClientCertAccepted(t *testing.T) {
	s := TLSClientCertRequired(t)
	tr := s.Transport()
	ca := newAuthority(t, "client CA")
	tr.TLSClientConfig.Certificates = []tls.Certificate{ca.issue(t, leafSpec{dnsNames: []string{"client.test"}})}
	r := roundTrip(t, tr, s.URL, nil, 3*time.Second)
	if r.rtErr != nil || r.status != http.StatusOK {
		t.Fatalf("got %+v, want 200", r)
	}
}
