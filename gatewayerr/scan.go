package gatewayerr

import (
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"reflect"

	"golang.org/x/net/http2"
)

// scan holds what a walk of an error chain found, the outermost occurrence
// of each thing first.
type scan struct {
	classified *Error // the first *Error
	kind       Kind   // a Kind found in the chain, or Unknown
	url        *url.Error
	op         *net.OpError
	dns        *net.DNSError
	maxBytes   *http.MaxBytesError

	errno errnoClass // what the first system call error says

	canceled      bool // context.Canceled
	deadline      bool // context.DeadlineExceeded, os.ErrDeadlineExceeded
	timeout       bool // some node's Timeout() is true
	eof           bool // io.EOF
	unexpectedEOF bool // io.ErrUnexpectedEOF
	closed        bool // net.ErrClosed
	certificate   bool // an x509 or certificate verification error
	recordHeader  bool // a tls.RecordHeaderError: the peer does not speak TLS
	scheme        bool // http.ErrSchemeMismatch
	coding        bool // a gzip, zlib or flate error
	config        bool // an address that cannot be used (net.AddrError, ...)
	protocol      bool // a textproto.ProtocolError: a malformed header

	alert       int  // a TLS alert's number, or -1 when none was found
	alertRemote bool // the alert came from the peer

	h2       h2Kind // the first HTTP/2 error found
	h2Code   http2.ErrCode
	text     textFact // what matchText recognized in a leaf
	textSize int64    // the size matchText found, or -1

	nodes int // nodes visited, to bound the walk
}

// h2Kind is the family of an HTTP/2 error.
type h2Kind uint8

const (
	h2None   h2Kind = iota
	h2Stream        // RST_STREAM, from the peer or local
	h2GoAway        // GOAWAY from the peer, then a closed connection
	h2Conn          // a connection error detected locally
)

// maxNodes bounds the walk of an error chain, against pathological chains.
const maxNodes = 256

func (s *scan) run(err error) {
	s.alert = -1
	s.textSize = -1
	defer func() {
		// An error type whose methods panic (a nil pointer with
		// value-receiver methods, say) ends the walk; Classify never panics.
		_ = recover()
	}()
	s.walk(err)
}

func (s *scan) walk(err error) {
	for err != nil && s.nodes < maxNodes {
		s.nodes++
		leaf := s.visit(err)
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			if leaf {
				return
			}
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				s.walk(e)
			}
			return
		default:
			if !leaf {
				s.matchLeaf(err)
			}
			return
		}
	}
}

// visit records what err itself says. It reports true when err is fully
// understood and the walk need not go below it.
func (s *scan) visit(err error) (stop bool) {
	switch e := err.(type) {
	case *Error:
		if e == nil {
			return true
		}
		if s.classified == nil {
			s.classified = e
		}
		return false
	case Kind:
		if s.kind == Unknown && e != Unknown && e < numKinds {
			s.kind = e
		}
		return true
	case *url.Error:
		if e == nil {
			return true
		}
		if s.url == nil {
			s.url = e
		}
		return false
	case *net.OpError:
		if e == nil {
			return true
		}
		if e.Op == "remote error" || e.Op == "local error" {
			if id, ok := tlsAlert(e.Err); ok && s.alert < 0 {
				s.alert = id
				s.alertRemote = e.Op == "remote error"
			}
		}
		if s.op == nil {
			s.op = e
		}
		return false
	case *net.DNSError:
		if e == nil {
			return true
		}
		if s.dns == nil {
			s.dns = e
		}
		if e.IsTimeout {
			s.timeout = true
		}
		return false
	case textproto.ProtocolError:
		s.protocol = true
		return true
	case *net.AddrError, net.UnknownNetworkError, net.InvalidAddrError, *net.ParseError:
		// The upstream's address cannot be used as configured.
		s.config = true
		return true
	case *http.MaxBytesError:
		if e == nil {
			return true
		}
		if s.maxBytes == nil {
			s.maxBytes = e
		}
		return true
	case *tls.CertificateVerificationError:
		s.certificate = true
		return false
	case x509.UnknownAuthorityError, x509.HostnameError, x509.CertificateInvalidError,
		x509.SystemRootsError, x509.ConstraintViolationError, x509.UnhandledCriticalExtension,
		x509.InsecureAlgorithmError:
		s.certificate = true
		return true
	case tls.RecordHeaderError:
		s.recordHeader = true
		return true
	case tls.AlertError:
		if s.alert < 0 {
			s.alert = int(e)
			s.alertRemote = true
		}
		return true
	case *tls.ECHRejectionError:
		if e != nil {
			s.recordHeader = true // a TLS failure with no alert
		}
		return true
	case http2.StreamError:
		s.setH2(h2Stream, e.Code)
		return true
	//lint:ignore SA1019 x/net/http2 still returns GoAwayError, which Classify must recognize
	case http2.GoAwayError:
		s.setH2(h2GoAway, e.ErrCode)
		return true
	case http2.ConnectionError:
		s.setH2(h2Conn, http2.ErrCode(e))
		return true
	case flate.CorruptInputError, flate.InternalError:
		s.coding = true
		return true
	case *os.SyscallError:
		// A dial's refusal and a connection's reset carry one: what it
		// says is its Errno's, below; of the checks that follow, only
		// Timeout applies to it (it has no Is or As).
		if e != nil {
			if e.Timeout() {
				s.timeout = true
			}
			return false
		}
	}
	if c, ok := errnoOf(err); ok {
		if s.errno == errnoNone {
			s.errno = c
		}
		return true
	}
	switch err {
	case context.Canceled:
		s.canceled = true
		return true
	case context.DeadlineExceeded, os.ErrDeadlineExceeded:
		s.deadline = true
		s.timeout = true
		return true
	case io.EOF:
		s.eof = true
		return true
	case io.ErrUnexpectedEOF:
		s.unexpectedEOF = true
		return true
	case net.ErrClosed, io.ErrClosedPipe:
		s.closed = true
		return true
	case http.ErrSchemeMismatch:
		s.scheme = true
		return true
	case gzip.ErrHeader, gzip.ErrChecksum, zlib.ErrHeader, zlib.ErrChecksum, zlib.ErrDictionary:
		s.coding = true
		return true
	}
	if id, ok := tlsAlert(err); ok {
		// An alert outside a *net.OpError: one this side sent.
		if s.alert < 0 {
			s.alert = id
		}
		return true
	}
	if x, ok := err.(interface{ Is(error) bool }); ok {
		if x.Is(context.Canceled) {
			s.canceled = true
		}
		if x.Is(context.DeadlineExceeded) {
			s.deadline = true
		}
	}
	if x, ok := err.(interface{ Timeout() bool }); ok && x.Timeout() {
		s.timeout = true
	}
	if _, ok := err.(interface{ As(any) bool }); ok && s.h2 == h2None {
		// net/http's bundled HTTP/2 stream error converts itself to
		// golang.org/x/net/http2's.
		var se http2.StreamError
		if errors.As(err, &se) {
			s.setH2(h2Stream, se.Code)
			return true
		}
	}
	return false
}

func (s *scan) setH2(k h2Kind, code http2.ErrCode) {
	if s.h2 == h2None {
		s.h2, s.h2Code = k, code
	}
}

// matchLeaf records what the text of a leaf of an unknown type says.
func (s *scan) matchLeaf(err error) {
	if s.text != textNone {
		return
	}
	fact, size, code := matchText(err.Error())
	s.text, s.textSize = fact, size
	switch fact {
	case textH2GoAway:
		s.setH2(h2GoAway, code)
	case textH2Conn:
		s.setH2(h2Conn, code)
	}
}

// tlsAlert reports the number of a TLS alert from crypto/tls: a
// [tls.AlertError] or the unexported alert type that a *net.OpError with Op
// "remote error" carries.
func tlsAlert(err error) (int, bool) {
	if a, ok := err.(tls.AlertError); ok {
		return int(a), true
	}
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Uint8 && v.Type().PkgPath() == "crypto/tls" {
		return int(v.Uint()), true
	}
	return 0, false
}

// alertName returns the name of a TLS alert as the TLS Alerts registry
// spells it, for RFC 9209's alert-message parameter.
func alertName(id int) string {
	switch id {
	case 0:
		return "close_notify"
	case 10:
		return "unexpected_message"
	case 20:
		return "bad_record_mac"
	case 21:
		return "decryption_failed"
	case 22:
		return "record_overflow"
	case 30:
		return "decompression_failure"
	case 40:
		return "handshake_failure"
	case 41:
		return "no_certificate"
	case 42:
		return "bad_certificate"
	case 43:
		return "unsupported_certificate"
	case 44:
		return "certificate_revoked"
	case 45:
		return "certificate_expired"
	case 46:
		return "certificate_unknown"
	case 47:
		return "illegal_parameter"
	case 48:
		return "unknown_ca"
	case 49:
		return "access_denied"
	case 50:
		return "decode_error"
	case 51:
		return "decrypt_error"
	case 60:
		return "export_restriction"
	case 70:
		return "protocol_version"
	case 71:
		return "insufficient_security"
	case 80:
		return "internal_error"
	case 86:
		return "inappropriate_fallback"
	case 90:
		return "user_canceled"
	case 100:
		return "no_renegotiation"
	case 109:
		return "missing_extension"
	case 110:
		return "unsupported_extension"
	case 111:
		return "certificate_unobtainable"
	case 112:
		return "unrecognized_name"
	case 113:
		return "bad_certificate_status_response"
	case 114:
		return "bad_certificate_hash_value"
	case 115:
		return "unknown_psk_identity"
	case 116:
		return "certificate_required"
	case 120:
		return "no_application_protocol"
	case 121:
		return "ech_required"
	}
	return ""
}
