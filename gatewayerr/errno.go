//go:build !plan9

package gatewayerr

import "syscall"

// errnoClass is what a system call error says about a connection.
type errnoClass uint8

const (
	errnoNone       errnoClass = iota
	errnoOther                 // a system call error of no known meaning here
	errnoRefused               // the peer refused the connection
	errnoUnroutable            // no route to the peer's address
	errnoProhibited            // the system forbids the connection
	errnoLimit                 // the system ran out of sockets or ports
	errnoTimeout               // the system timed the connection out
	errnoTerminated            // the connection was reset, aborted or broken
	errnoNoSocket              // no such file: a Unix socket nothing listens on
)

// errnoOf reports what err says when it is a syscall.Errno.
func errnoOf(err error) (errnoClass, bool) {
	n, ok := err.(syscall.Errno)
	if !ok {
		return errnoNone, false
	}
	if c := winsockClass(n); c != errnoNone {
		return c, true
	}
	switch n {
	case syscall.ECONNREFUSED:
		return errnoRefused, true
	case syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ENETDOWN, syscall.EHOSTDOWN:
		return errnoUnroutable, true
	case syscall.EACCES, syscall.EPERM:
		return errnoProhibited, true
	case syscall.EMFILE, syscall.ENFILE, syscall.EADDRNOTAVAIL, syscall.ENOBUFS:
		return errnoLimit, true
	case syscall.ETIMEDOUT:
		return errnoTimeout, true
	case syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE:
		return errnoTerminated, true
	case syscall.ENOENT:
		return errnoNoSocket, true
	}
	return errnoOther, true
}
