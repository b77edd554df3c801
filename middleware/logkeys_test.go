package middleware

import (
	"io"
	"net/http"
	"testing"

	"github.com/gatehouse-go/gatehouse/errorpage"
)

// TestFailureRecordsCarryRequestID checks that every failure record has a
// request_id: the request's own when it carries a valid one, else a new
// valid one, from a Transport used on its own and from a proxy's body that
// fails while streaming, where no page quotes one.
func TestFailureRecordsCarryRequestID(t *testing.T) {
	t.Parallel()
	const own = "0123456789abcdef01234567"
	for _, sent := range []string{own, ""} {
		t.Run("Transport, request ID "+sent, func(t *testing.T) {
			t.Parallel()
			var log capturedLog
			tr := &Transport{Logger: log.logger()}
			req := newRequest(t, http.MethodGet, "http://"+refusedAddr(t)+"/", nil)
			if sent != "" {
				req.Header.Set("X-Request-ID", sent)
			}
			if _, err := tr.RoundTrip(req); err == nil {
				t.Fatal("RoundTrip to a refused address succeeded")
			}
			checkRequestID(t, &log, sent)
		})
		t.Run("proxy, body failing midway, request ID "+sent, func(t *testing.T) {
			t.Parallel()
			up := brokenUpstream(t, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhalf", false)
			var log capturedLog
			gw := gateway(t, up.URL, Options{Logger: log.logger()})
			req := newRequest(t, http.MethodGet, gw.URL, nil)
			if sent != "" {
				req.Header.Set("X-Request-ID", sent)
			}
			c := &http.Client{Transport: &http.Transport{Proxy: nil}}
			defer c.CloseIdleConnections()
			if resp, err := c.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			checkRequestID(t, &log, sent)
		})
	}
}

// checkRequestID checks that log holds one failure record, whose
// request_id is sent, or a valid one when sent is "".
func checkRequestID(t *testing.T, log *capturedLog, sent string) {
	t.Helper()
	records := log.records(t, "gatehouse: upstream failure")
	if len(records) != 1 {
		t.Fatalf("%d failure records, want 1", len(records))
	}
	id, _ := records[0][keyRequestID].(string)
	if sent != "" && id != sent || !errorpage.ValidRequestID(id) {
		t.Errorf("request_id %q, want %q or a new valid one", id, sent)
	}
}
