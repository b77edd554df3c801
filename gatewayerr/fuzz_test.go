package gatewayerr

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// chainFromBytes builds an error chain from fuzz input: each byte picks a
// leaf or a wrapper, text supplies the text of text-only errors.
func chainFromBytes(data []byte, text string) error {
	var stack []error
	pop := func() error {
		if len(stack) == 0 {
			return nil
		}
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		return e
	}
	errnos := []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, syscall.ETIMEDOUT,
		syscall.EHOSTUNREACH, syscall.EACCES, syscall.EMFILE, syscall.EIO, 0}
	ops := []string{"dial", "read", "write", "remote error", "local error", "proxyconnect", ""}
	for i, b := range data {
		arg := int(b >> 5)
		switch b & 31 {
		case 0:
			stack = append(stack, io.EOF)
		case 1:
			stack = append(stack, io.ErrUnexpectedEOF)
		case 2:
			stack = append(stack, context.Canceled)
		case 3:
			stack = append(stack, context.DeadlineExceeded)
		case 4:
			stack = append(stack, errnos[arg%len(errnos)])
		case 5:
			stack = append(stack, errors.New(text))
		case 6:
			stack = append(stack, &net.DNSError{Err: text, Name: text, IsNotFound: arg&1 != 0, IsTimeout: arg&2 != 0, IsTemporary: arg&4 != 0, UnwrapErr: pop()})
		case 7:
			stack = append(stack, http2.StreamError{StreamID: uint32(i), Code: http2.ErrCode(arg * 2)})
		case 8:
			//lint:ignore SA1019 x/net/http2 still returns GoAwayError, which Classify must recognize
			stack = append(stack, http2.GoAwayError{ErrCode: http2.ErrCode(arg * 2), DebugData: text})
		case 9:
			stack = append(stack, tls.AlertError(b))
		case 10:
			stack = append(stack, &tls.CertificateVerificationError{Err: pop()})
		case 11:
			stack = append(stack, x509.UnknownAuthorityError{})
		case 12:
			// Any kind, and a few beyond the last, as the position varies.
			stack = append(stack, Kind(arg+8*(i%5)))
		case 13:
			stack = append(stack, &Error{Kind: Kind(arg * 9), Err: pop()})
		case 14:
			stack = append(stack, (*url.Error)(nil))
		case 15:
			stack = append(stack, (*net.OpError)(nil))
		case 16:
			stack = append(stack, &http.MaxBytesError{Limit: int64(b)})
		case 17:
			stack = append(stack, http.ErrSchemeMismatch)
		case 18:
			stack = append(stack, os.ErrDeadlineExceeded)
		case 19:
			stack = append(stack, net.ErrClosed)
		case 20:
			stack = append(stack, &url.Error{Op: "Get", URL: text, Err: pop()})
		case 21:
			stack = append(stack, &net.OpError{Op: ops[arg%len(ops)], Net: "tcp", Addr: &net.TCPAddr{IP: net.IP{127, 0, 0, byte(i)}, Port: int(b)}, Err: pop()})
		case 22:
			stack = append(stack, os.NewSyscallError(text, pop()))
		case 23:
			stack = append(stack, fmt.Errorf("%s: %w", text, pop()))
		case 24:
			stack = append(stack, errors.Join(pop(), pop()))
		case 25:
			stack = append(stack, fmt.Errorf("%w; %w", pop(), pop()))
		case 26:
			stack = append(stack, &http.MaxBytesError{})
		case 27:
			stack = append(stack, (*Error)(nil))
		case 28:
			stack = append(stack, &textErr{msg: text, timeout: arg&1 != 0})
		default:
			stack = append(stack, fmt.Errorf("wrapped %d: %w", b, pop()))
		}
	}
	var errs []error
	for _, e := range stack {
		if e != nil {
			errs = append(errs, e)
		}
	}
	switch len(errs) {
	case 0:
		return errors.New(text)
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// FuzzClassify checks that Classify never panics and never returns nil for
// arbitrary wrapped error chains, that its result is consistent, and that
// its Proxy-Status member is always valid.
func FuzzClassify(f *testing.F) {
	f.Add([]byte{4, 21, 20}, "http://backend/")
	f.Add([]byte{0, 23, 2, 24}, "server sent GOAWAY ErrCode=PROTOCOL_ERROR")
	f.Add([]byte{6, 21, 13}, "no such host")
	f.Add([]byte{5, 14, 25, 15, 24}, "net/http: server response headers exceeded 10 bytes; aborted")
	f.Add([]byte{9 | 4<<5, 21 | 3<<5}, "")
	f.Add([]byte{28 | 32, 20}, "net/http: timeout awaiting response headers")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		if len(data) > 64 {
			data = data[:64]
		}
		err := chainFromBytes(data, text)
		for phase := PhaseUnknown; phase <= PhaseReadBody; phase++ {
			e := ClassifyPhase(err, phase)
			if e == nil {
				t.Fatalf("ClassifyPhase(%v, %v) = nil", err, phase)
			}
			if e.Kind >= numKinds {
				t.Fatalf("kind %d out of range", e.Kind)
			}
			if s := e.StatusCode(); s < 400 || s > 599 {
				t.Fatalf("status %d", s)
			}
			if again := Classify(e); e.Kind != Unknown && again != e {
				t.Fatalf("Classify(Classify(err)) is not the same *Error")
			}
			if e.Error() == "" {
				t.Fatal("empty Error()")
			}
			if !errors.Is(e, e.Kind) {
				t.Fatalf("errors.Is(e, %v) = false", e.Kind)
			}
			member := e.ProxyStatus(text, true).String()
			if _, err := ParseProxyStatus(member); err != nil {
				t.Fatalf("ProxyStatus member %q does not parse: %v", member, err)
			}
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "Thu, 01 Jan 2026 12:00:30 GMT", "-1", "1e9"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, negative", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, false; want 0 when not ok", s, d)
		}
	})
}
