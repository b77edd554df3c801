//go:build !linux

package faulttest

import (
	"errors"
	"net"
)

// firewallSupported reports whether [Firewall] can run here.
const firewallSupported = false

func shrinkBacklog(net.Listener) error {
	return errors.New("needs Linux, where a full accept queue drops SYNs")
}
