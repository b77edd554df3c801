package middleware

import (
	"net/http"
	"testing"

	"github.com/gatehouse-go/gatehouse/errorpage"
)

// TestDetailsFollowPagesDebug checks that, with a nil ProxyStatusDetails,
// the Proxy-Status field shows details to the requests the pages show them
// to, and that ProxyStatusDetails, when set, decides for the field.
func TestDetailsFollowPagesDebug(t *testing.T) {
	t.Parallel()
	debug, err := errorpage.New(errorpage.Config{Debug: errorpage.Always})
	if err != nil {
		t.Fatal(err)
	}
	never := func(*http.Request) bool { return false }
	tests := []struct {
		name    string
		opts    Options
		details bool
	}{
		{"default pages", Options{}, false},
		{"pages with Debug", Options{Pages: debug}, true},
		{"ProxyStatusDetails decides", Options{Pages: debug, ProxyStatusDetails: never}, false},
		{"ProxyStatusDetails Always", Options{ProxyStatusDetails: errorpage.Always}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := gateway(t, "http://"+refusedAddr(t), tt.opts)
			resp, _ := get(t, nil, srv.URL+"/x", "text/plain")
			ps := lastProxyStatus(t, resp.Header)
			if got := ps.Details != "" || ps.NextHop != ""; got != tt.details {
				t.Errorf("Proxy-Status %q: details shown = %v, want %v", resp.Header.Values("Proxy-Status"), got, tt.details)
			}
		})
	}
}
