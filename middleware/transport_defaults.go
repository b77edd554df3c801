package middleware

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// The settings of the transport made for a gateway, documented on
// Transport.Base, where they differ from http.DefaultTransport's.
// ResponseHeaderTimeout is nginx's proxy_read_timeout: from the end of the
// request to the response header, not bounding the body. 128 idle
// connections per host (http.DefaultTransport keeps 2) let concurrent
// requests to one upstream reuse connections instead of opening one each;
// 30 s idle stays below most servers' keep-alive timeout, so that an idle
// connection is seldom reused just as the upstream closes it.
// The write timeout is nginx's proxy_send_timeout: an upstream that stops
// reading the request fails with connection_write_timeout; the time between
// two writes, as a slow client uploads, is not bounded.
// DisableCompression passes the client's Accept-Encoding and the body as
// they are. Proxies come from the environment, as for http.DefaultTransport
// (never for loopback); a Base whose Proxy is nil ignores them.
const (
	defaultDialTimeout            = 10 * time.Second
	defaultKeepAlive              = 30 * time.Second
	defaultTLSHandshakeTimeout    = 10 * time.Second
	defaultResponseHeaderTimeout  = 60 * time.Second
	defaultExpectContinueTimeout  = time.Second
	defaultMaxIdleConns           = 1024
	defaultMaxIdleConnsPerHost    = 128
	defaultIdleConnTimeout        = 30 * time.Second
	defaultMaxResponseHeaderBytes = 1 << 20
	defaultWriteTimeout           = 60 * time.Second
)

// NewGatewayTransport returns a new [*http.Transport] with the settings
// that a nil [Transport.Base], or a nil Options.Transport, stands for
// (listed on Transport.Base), for a gateway that wants to change some of
// them: a shorter ResponseHeaderTimeout, say, without falling back to
// [http.DefaultTransport]'s 2 idle connections per host and no timeouts.
// Change its fields before its first use, as for any http.Transport. Its
// DialContext dials with the 10 s timeout and bounds each write to the
// upstream; a DialContext of your own replaces both.
func NewGatewayTransport() *http.Transport {
	return gatewayTransport(defaultResponseHeaderTimeout, defaultWriteTimeout)
}

// gatewayTransport returns a new transport made for a gateway, with the
// settings documented on Transport.Base and the given response-header and
// write timeouts.
func gatewayTransport(responseHeaderTimeout, writeTimeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: defaultDialTimeout, KeepAlive: defaultKeepAlive}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &writeTimeoutConn{Conn: c, timeout: writeTimeout}, nil
		},
		TLSHandshakeTimeout:    defaultTLSHandshakeTimeout,
		ResponseHeaderTimeout:  responseHeaderTimeout,
		ExpectContinueTimeout:  defaultExpectContinueTimeout,
		MaxIdleConns:           defaultMaxIdleConns,
		MaxIdleConnsPerHost:    defaultMaxIdleConnsPerHost,
		IdleConnTimeout:        defaultIdleConnTimeout,
		MaxResponseHeaderBytes: defaultMaxResponseHeaderBytes,
		DisableCompression:     true,
		ForceAttemptHTTP2:      true,
	}
}

// writeTimeoutConn is a connection of the transport made for a gateway:
// each Write must complete within timeout, so that an upstream that stops
// reading a request (its body, or HTTP/2 frames) fails the exchange with
// connection_write_timeout instead of holding it, as nginx's
// proxy_send_timeout does. http.Transport's ResponseHeaderTimeout starts
// only once the request is written, and it has no write timeout of its own.
type writeTimeoutConn struct {
	net.Conn
	timeout time.Duration
	// set is when the write deadline was last set (UnixNano; 0: never).
	// Setting it costs a runtime timer update under a lock, so a Write
	// that starts within timeout/deadlineSlack of the last setting keeps
	// the deadline: each Write then has between timeout minus that slack
	// (under 1 s for the 60 s default) and timeout to complete.
	set atomic.Int64
}

// deadlineSlack divides the write timeout into the slack within which a
// writeTimeoutConn's deadline is reused rather than set again.
const deadlineSlack = 64

func (c *writeTimeoutConn) Write(p []byte) (int, error) {
	now := time.Now()
	if n := now.UnixNano(); n-c.set.Load() > int64(c.timeout/deadlineSlack) {
		if err := c.Conn.SetWriteDeadline(now.Add(c.timeout)); err != nil {
			return 0, err
		}
		c.set.Store(n)
	}
	return c.Conn.Write(p)
}
