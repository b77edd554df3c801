package gatewayerr

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestClassifyResponse(t *testing.T) {
	type result struct {
		Kind           Kind
		Status         int
		ReceivedStatus int
		RetryAfter     time.Duration
		Upstream       string
		NextHop        string
		Chain          []ProxyStatus
		DNSRcode       string
		DNSInfoCode    int
		TLSAlertID     int
		TLSAlertMsg    string
		Size           int64
		FieldName      string
		RequestSent    bool
	}
	base := result{DNSInfoCode: -1, TLSAlertID: -1, Size: -1, RequestSent: true, Upstream: "backend:8080"}
	// longest is the longest Proxy-Status field believed; one member more
	// and the field is ignored.
	longest := strings.TrimSuffix(strings.Repeat("p;error=dns_error, ", MaxProxyStatusMembers), ", ")
	longestChain, err := ParseProxyStatus(longest)
	if err != nil {
		t.Fatal(err)
	}
	const refused = "edge;error=connection_refused"
	refusedChain, err := ParseProxyStatus(refused)
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*result)) *result {
		r := base
		f(&r)
		return &r
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		want   *result // nil: not a gateway failure
	}{
		{"200", 200, nil, nil},
		{
			"404 with an error member keeps its status", 404, http.Header{"Proxy-Status": {refused}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus, r.Chain = ConnectionRefused, 404, 404, refusedChain
			}),
		},
		{
			"longest Proxy-Status believed", 502, http.Header{"Proxy-Status": {longest}},
			with(func(r *result) { r.Kind, r.Status, r.ReceivedStatus, r.Chain = DNSError, 502, 502, longestChain }),
		},
		{
			"longer Proxy-Status ignored", 502, http.Header{"Proxy-Status": {longest + ", p;error=dns_error"}},
			with(func(r *result) { r.Kind, r.Status, r.ReceivedStatus = Unknown, 502, 502 }),
		},
		{"500 is the upstream's own failure", 500, nil, nil},
		{"404", 404, http.Header{"Retry-After": {"5"}}, nil},
		{"502", 502, nil, with(func(r *result) { r.Kind, r.Status, r.ReceivedStatus = Unknown, 502, 502 })},
		{"503", 503, nil, with(func(r *result) { r.Kind, r.Status, r.ReceivedStatus = DestinationUnavailable, 503, 503 })},
		{"504", 504, nil, with(func(r *result) { r.Kind, r.Status, r.ReceivedStatus = HTTPResponseTimeout, 504, 504 })},
		{
			"503 with Retry-After seconds", 503, http.Header{"Retry-After": {"120"}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus, r.RetryAfter = DestinationUnavailable, 503, 503, 2*time.Minute
			}),
		},
		{
			"Retry-After of a day, as asked", 503, http.Header{"Retry-After": {"86400"}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus, r.RetryAfter = DestinationUnavailable, 503, 503, 24*time.Hour
			}),
		},
		{
			"Retry-After bounded against nonsense", 503, http.Header{"Retry-After": {"999999999999999999999"}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus, r.RetryAfter = DestinationUnavailable, 503, 503, MaxStatedRetryAfter
			}),
		},
		{
			"Retry-After date relative to Date", 503,
			http.Header{"Date": {"Sun, 06 Nov 1994 08:49:37 GMT"}, "Retry-After": {"Sun, 06 Nov 1994 08:50:07 GMT"}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus, r.RetryAfter = DestinationUnavailable, 503, 503, 30*time.Second
			}),
		},
		{
			"Retry-After date in the past", 503, http.Header{"Retry-After": {"Sun, 06 Nov 1994 08:50:07 GMT"}},
			with(func(r *result) { r.Kind, r.Status, r.ReceivedStatus = DestinationUnavailable, 503, 503 }),
		},
		{
			"Retry-After invalid", 503, http.Header{"Retry-After": {"soon"}},
			with(func(r *result) { r.Kind, r.Status, r.ReceivedStatus = DestinationUnavailable, 503, 503 }),
		},
		{
			"Retry-After negative", 503, http.Header{"Retry-After": {"-5"}},
			with(func(r *result) { r.Kind, r.Status, r.ReceivedStatus = DestinationUnavailable, 503, 503 }),
		},
		{
			"Proxy-Status names the kind", 502,
			http.Header{"Proxy-Status": {`origin-lb;error=dns_error;rcode="NXDOMAIN";info-code=3;next-hop=db.internal, cdn;received-status=502`}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus = DNSError, 502, 502
				r.DNSRcode, r.DNSInfoCode = "NXDOMAIN", 3
				r.Chain = []ProxyStatus{
					{Proxy: "origin-lb", Kind: DNSError, Error: "dns_error", NextHop: "db.internal", Params: []Param{{"rcode", "NXDOMAIN"}, {"info-code", int64(3)}}},
					{Proxy: "cdn", ReceivedStatus: 502},
				}
			}),
		},
		{
			"first member with an error wins", 504,
			http.Header{"Proxy-Status": {"a", "b;error=connection_timeout", "c;error=http_response_timeout"}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus = ConnectionTimeout, 504, 504
				r.Chain = []ProxyStatus{
					{Proxy: "a"},
					{Proxy: "b", Kind: ConnectionTimeout, Error: "connection_timeout"},
					{Proxy: "c", Kind: HTTPResponseTimeout, Error: "http_response_timeout"},
				}
			}),
		},
		{
			"TLS alert parameters", 502,
			http.Header{"Proxy-Status": {`lb;error=tls_alert_received;alert-id=42;alert-message="bad_certificate"`}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus = TLSAlertReceived, 502, 502
				r.TLSAlertID, r.TLSAlertMsg = 42, "bad_certificate"
				r.Chain = []ProxyStatus{{Proxy: "lb", Kind: TLSAlertReceived, Error: "tls_alert_received", Params: []Param{{"alert-id", int64(42)}, {"alert-message", "bad_certificate"}}}}
			}),
		},
		{
			"TLS alert message as a token; another type's parameters ignored", 502,
			http.Header{"Proxy-Status": {`lb;error=tls_alert_received;alert-message=bad_certificate;rcode="NXDOMAIN";body-size=-5`}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus = TLSAlertReceived, 502, 502
				r.TLSAlertID, r.TLSAlertMsg = -1, "bad_certificate"
				r.Chain = []ProxyStatus{{Proxy: "lb", Kind: TLSAlertReceived, Error: "tls_alert_received", Params: []Param{{"alert-message", Token("bad_certificate")}, {"rcode", "NXDOMAIN"}, {"body-size", int64(-5)}}}}
			}),
		},
		{
			"header size parameters", 502,
			http.Header{"Proxy-Status": {`lb;error=http_response_header_size;header-name="X-Big";header-size=8192`}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus = HTTPResponseHeaderSize, 502, 502
				r.FieldName, r.Size = "X-Big", 8192
				r.Chain = []ProxyStatus{{Proxy: "lb", Kind: HTTPResponseHeaderSize, Error: "http_response_header_size", Params: []Param{{"header-name", "X-Big"}, {"header-size", int64(8192)}}}}
			}),
		},
		{
			"the kind comes from Proxy-Status, the status stays the upstream's", 503,
			http.Header{"Proxy-Status": {"lb;error=connection_refused"}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus = ConnectionRefused, 503, 503
				r.Chain = []ProxyStatus{{Proxy: "lb", Kind: ConnectionRefused, Error: "connection_refused"}}
			}),
		},
		{
			"Proxy-Status error on a 500", 500,
			http.Header{"Proxy-Status": {"lb;error=proxy_configuration_error"}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus = ProxyConfigurationError, 500, 500
				r.Chain = []ProxyStatus{{Proxy: "lb", Kind: ProxyConfigurationError, Error: "proxy_configuration_error"}}
			}),
		},
		{
			"unregistered error token keeps the status's kind", 503,
			http.Header{"Proxy-Status": {"lb;error=x_overloaded"}},
			with(func(r *result) {
				r.Kind, r.Status, r.ReceivedStatus = DestinationUnavailable, 503, 503
				r.Chain = []ProxyStatus{{Proxy: "lb", Error: "x_overloaded"}}
			}),
		},
		{"Proxy-Status without error on a 200", 200, http.Header{"Proxy-Status": {"lb;received-status=200"}}, nil},
		{
			"invalid Proxy-Status ignored", 502, http.Header{"Proxy-Status": {"lb;error="}},
			with(func(r *result) { r.Kind, r.Status, r.ReceivedStatus = Unknown, 502, 502 }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			resp := &http.Response{
				StatusCode: tt.status,
				Header:     h,
				Request:    &http.Request{URL: &url.URL{Scheme: "http", Host: "backend:8080"}},
			}
			e := ClassifyResponse(resp)
			if tt.want == nil {
				if e != nil {
					t.Fatalf("ClassifyResponse = %v, want nil", e)
				}
				return
			}
			if e == nil {
				t.Fatal("ClassifyResponse = nil")
			}
			got := &result{
				Kind: e.Kind, Status: e.StatusCode(), ReceivedStatus: e.ReceivedStatus,
				RetryAfter: e.RetryAfter, Upstream: e.Upstream, NextHop: e.NextHop, Chain: e.Chain,
				DNSRcode: e.DNSRcode, DNSInfoCode: e.DNSInfoCode, TLSAlertID: e.TLSAlertID,
				TLSAlertMsg: e.TLSAlertMessage, Size: e.Size, FieldName: e.FieldName,
				RequestSent: e.RequestSent(),
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ClassifyResponse mismatch (-want +got):\n%s", diff)
			}
			if Classify(e) != e {
				t.Error("Classify of a response's *Error is not the same *Error")
			}
			if ps := e.ProxyStatus("gw", false); ps.Error != "" || ps.ReceivedStatus != tt.status {
				t.Errorf("ProxyStatus() = %+v, want received-status %d and no error", ps, tt.status)
			}
		})
	}
	if ClassifyResponse(nil) != nil {
		t.Error("ClassifyResponse(nil) != nil")
	}
}

func TestRetryAfterNow(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	h := http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}
	if got := retryAfter(h, clock); got != 90*time.Second {
		t.Errorf("retryAfter(date) = %v, want 1m30s", got)
	}
	h.Set("Date", "not a date")
	if got := retryAfter(h, clock); got != 90*time.Second {
		t.Errorf("retryAfter(date, bad Date) = %v, want 1m30s", got)
	}
	// Beyond MaxRetryAfter, which caps scheduled retries only, the wait
	// is recorded as asked, up to MaxStatedRetryAfter.
	h = http.Header{"Retry-After": {now.Add(48 * time.Hour).Format(time.RFC850)}}
	if got := retryAfter(h, clock); got != 48*time.Hour {
		t.Errorf("retryAfter(date in 2 days) = %v, want 48h", got)
	}
	h = http.Header{"Retry-After": {"3601"}}
	if got := retryAfter(h, clock); got != 3601*time.Second {
		t.Errorf("retryAfter(3601) = %v, want 1h0m1s", got)
	}
	h = http.Header{"Retry-After": {now.AddDate(3, 0, 0).Format(http.TimeFormat)}}
	if got := retryAfter(h, clock); got != MaxStatedRetryAfter {
		t.Errorf("retryAfter(date in 3 years) = %v, want %v", got, MaxStatedRetryAfter)
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Kind: ConnectionRefused}, "gatewayerr: connection_refused"},
		{&Error{Kind: ConnectionRefused, Phase: PhaseDial}, "gatewayerr: connection_refused (dial)"},
		{&Error{Kind: ConnectionRefused, Upstream: "b:80"}, "gatewayerr: connection_refused (b:80)"},
		{&Error{Kind: ConnectionRefused, Phase: PhaseDial, Upstream: "b:80", Err: errors.New("boom")}, "gatewayerr: connection_refused (dial b:80): boom"},
		{&Error{Kind: DestinationUnavailable, Upstream: "b:80", ReceivedStatus: 503}, "gatewayerr: destination_unavailable (b:80, received status 503)"},
		{&Error{Kind: Unknown, ReceivedStatus: 502}, "gatewayerr: unknown (received status 502)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestClientClosedAfterResponseIs499 checks that a client that went away
// after the upstream's error response arrived is reported with 499, not
// with the upstream's status.
func TestClientClosedAfterResponseIs499(t *testing.T) {
	resp := &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{"Proxy-Status": {"edge;error=connection_refused"}}}
	e := ClassifyResponse(resp)
	if got := e.StatusCode(); got != http.StatusBadGateway {
		t.Fatalf("upstream's 502: StatusCode() = %d, want 502", got)
	}
	c := *e
	c.Kind = ClientClosedRequest
	if got := c.StatusCode(); got != StatusClientClosedRequest {
		t.Errorf("client gone after the 502: StatusCode() = %d, want 499", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 3 ", 3 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"99999999999", math.MaxInt64, true}, // longer than any cap
		{"99999999999999999999", math.MaxInt64, true},
		{"9223372036", 9223372036 * time.Second, true},
		{"Thu, 01 Jan 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Thu, 01 Jan 2026 11:00:00 GMT", 0, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}
