//go:build !windows && !plan9

package gatewayerr

import "syscall"

// winsockClass is for Windows only.
func winsockClass(syscall.Errno) errnoClass { return errnoNone }
