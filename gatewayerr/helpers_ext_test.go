package gatewayerr_test

//lint:file-ignore SA1019 xnetTransport builds x/net/http2's own (deprecated) Transport, through which the faults are also classified

import (
	"crypto/tls"
	"testing"

	"github.com/gatehouse-go/gatehouse/gatewayerr/faulttest"
	"golang.org/x/net/http2"
)

// xnetTransport returns a golang.org/x/net/http2 transport set up to reach
// s over TLS; its idle connections are closed when the test ends.
func xnetTransport(tb testing.TB, s *faulttest.Server) *http2.Transport {
	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: s.RootCAs}}
	tb.Cleanup(tr.CloseIdleConnections)
	return tr
}
