package gatewayerr

import "syscall"

// winsockClass classifies the Windows Sockets errors, which package syscall
// does not name but net returns on Windows.
func winsockClass(n syscall.Errno) errnoClass {
	switch n {
	case 10061: // WSAECONNREFUSED
		return errnoRefused
	case 10050, 10051, 10064, 10065: // WSAENETDOWN, WSAENETUNREACH, WSAEHOSTDOWN, WSAEHOSTUNREACH
		return errnoUnroutable
	case 10013: // WSAEACCES
		return errnoProhibited
	case 10024, 10049, 10055: // WSAEMFILE, WSAEADDRNOTAVAIL, WSAENOBUFS
		return errnoLimit
	case 10060: // WSAETIMEDOUT
		return errnoTimeout
	case 10053, 10054, 10058: // WSAECONNABORTED, WSAECONNRESET, WSAESHUTDOWN
		return errnoTerminated
	}
	return errnoNone
}
