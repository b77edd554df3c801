package faulttest

import (
	"net"
	"syscall"
)

// firewallSupported reports whether [Firewall] can run here.
const firewallSupported = true

// shrinkBacklog lowers ln's listen backlog to zero: Linux lets listen be
// called again on a listening socket to change it.
func shrinkBacklog(ln net.Listener) error {
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), 0) }); err != nil {
		return err
	}
	return lerr
}
