package gatewayerr

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/google/go-cmp/cmp"
)

func TestParseProxyStatus(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []ProxyStatus
	}{
		{"empty", "", nil},
		{"name only", "cdn", []ProxyStatus{{Proxy: "cdn"}}},
		{"string name", `"Example CDN"`, []ProxyStatus{{Proxy: "Example CDN"}}},
		{
			"RFC 9209 example",
			`ExampleCDN, CacheHost; error=connection_timeout; next-hop=backend.example.com`,
			[]ProxyStatus{
				{Proxy: "ExampleCDN"},
				{Proxy: "CacheHost", Kind: ConnectionTimeout, Error: "connection_timeout", NextHop: "backend.example.com"},
			},
		},
		{
			"every known parameter",
			`gw;error=dns_error;rcode="NXDOMAIN";info-code=3;received-status=502;next-hop="10.0.0.1:443";next-protocol=h2;details="no such host"`,
			[]ProxyStatus{{
				Proxy: "gw", Kind: DNSError, Error: "dns_error", ReceivedStatus: 502,
				NextHop: "10.0.0.1:443", NextProtocol: "h2", Details: "no such host",
				Params: []Param{{"rcode", "NXDOMAIN"}, {"info-code", int64(3)}},
			}},
		},
		{
			"unregistered error kept",
			`gw;error=teapot_overflow`,
			[]ProxyStatus{{Proxy: "gw", Error: "teapot_overflow"}},
		},
		{
			"unknown parameters of every type kept in order",
			`gw;z=?1;y=1.5;x=:AQI=:;w=@1700000000;v=%"caf%c3%a9";u=tok;t="s"`,
			[]ProxyStatus{{Proxy: "gw", Params: []Param{
				{"z", true}, {"y", 1.5}, {"x", []byte{1, 2}}, {"w", time.Unix(1700000000, 0)},
				{"v", DisplayString("café")}, {"u", Token("tok")}, {"t", "s"},
			}}},
		},
		{"next-protocol as bytes", `gw;next-protocol=:aDI=:`, []ProxyStatus{{Proxy: "gw", NextProtocol: "h2"}}},
		{"next-hop as token", `gw;next-hop=backend`, []ProxyStatus{{Proxy: "gw", NextHop: "backend"}}},
		{"received status only", `origin-lb;received-status=503`, []ProxyStatus{{Proxy: "origin-lb", ReceivedStatus: 503}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProxyStatus(tt.value)
			if err != nil {
				t.Fatalf("ParseProxyStatus(%q): %v", tt.value, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseProxyStatus(%q) mismatch (-want +got):\n%s", tt.value, diff)
			}
		})
	}
}

func TestParseProxyStatusInvalid(t *testing.T) {
	tests := []struct {
		value   string
		message string // a part of the error message that names the problem
	}{
		{"gw,", "not a structured-field list"},
		{"gw;error=", "not a structured-field list"},
		{"gw\r\nX: y", "not a structured-field list"},
		{"gw; error=dns_error", ""}, // valid: SP after ';' is allowed
		{"42", "member 1: an integer, not a token or string"},
		{"gw, (a b)", "member 2: an inner list"},
		{`gw;error="dns_error"`, `"gw": error parameter is a string, want a token`},
		{`gw;error=1`, `error parameter is an integer, want a token`},
		{`gw;received-status=abc`, `received-status parameter is a token, want an integer`},
		{`gw;received-status=42`, `received-status parameter 42 is not an HTTP status code`},
		{`gw;next-hop=1`, `next-hop parameter is an integer, want a token or string`},
		{`gw;next-protocol="h2"`, `next-protocol parameter is a string, want a token or byte sequence`},
		{`gw;details=tok`, `details parameter is a token, want a string`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := ParseProxyStatus(tt.value)
			if tt.message == "" {
				if err != nil {
					t.Fatalf("ParseProxyStatus(%q): %v", tt.value, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseProxyStatus(%q) = %+v, want an error", tt.value, got)
			}
			if !errors.Is(err, ErrInvalidProxyStatus) {
				t.Errorf("error %q does not wrap ErrInvalidProxyStatus", err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not say %q", err, tt.message)
			}
		})
	}
}

func TestParseProxyStatusHeader(t *testing.T) {
	h := http.Header{}
	got, err := ParseProxyStatusHeader(h)
	if err != nil || got != nil {
		t.Fatalf("no field: got %v, %v; want nil, nil", got, err)
	}
	h.Add("Proxy-Status", "origin;received-status=503")
	h.Add("Proxy-Status", "cdn;error=http_response_timeout")
	got, err = ParseProxyStatusHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	want := []ProxyStatus{
		{Proxy: "origin", ReceivedStatus: 503},
		{Proxy: "cdn", Kind: HTTPResponseTimeout, Error: "http_response_timeout"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	// An empty line adds nothing, as AppendProxyStatus reads it.
	h.Add("Proxy-Status", " ")
	if got, err = ParseProxyStatusHeader(h); err != nil || len(got) != 2 {
		t.Errorf("with an empty line: %v, %v; want the two members", got, err)
	}
	if got, err = ParseProxyStatusHeader(http.Header{"Proxy-Status": {""}}); err != nil || got != nil {
		t.Errorf("only an empty line: %v, %v; want nil, nil", got, err)
	}
}

func TestProxyStatusString(t *testing.T) {
	tests := []struct {
		name string
		p    ProxyStatus
		want string
	}{
		{"name only", ProxyStatus{Proxy: "gatehouse"}, "gatehouse"},
		{"kind", ProxyStatus{Proxy: "gw", Kind: ConnectionRefused}, "gw;error=connection_refused"},
		{"error token wins", ProxyStatus{Proxy: "gw", Kind: ConnectionRefused, Error: "x_custom"}, "gw;error=x_custom"},
		{"invalid error token falls back to kind", ProxyStatus{Proxy: "gw", Kind: DNSError, Error: "bad token"}, "gw;error=dns_error"},
		{"unknown kind has no error", ProxyStatus{Proxy: "gw", Kind: Unknown}, "gw"},
		{"client closed has no error", ProxyStatus{Proxy: "gw", Kind: ClientClosedRequest}, "gw"},
		{
			"every field",
			ProxyStatus{
				Proxy: "gw", Kind: DNSError, ReceivedStatus: 502, NextHop: "10.0.0.1:80",
				NextProtocol: "h2", Details: `say "hi"\`, Params: []Param{{"rcode", "NXDOMAIN"}},
			},
			`gw;error=dns_error;received-status=502;next-hop="10.0.0.1:80";next-protocol=h2;rcode="NXDOMAIN";details="say \"hi\"\\"`,
		},
		{"next-hop that is not a token", ProxyStatus{Proxy: "gw", NextHop: "[::1]:80"}, `gw;next-hop="[::1]:80"`},
		{"next-protocol that is not a token", ProxyStatus{Proxy: "gw", NextProtocol: "h 2"}, `gw;next-protocol=:aCAy:`},
		{"invalid proxy name becomes a string", ProxyStatus{Proxy: "my proxy"}, `"my proxy"`},
		{"CR LF cannot escape", ProxyStatus{Proxy: "gw\r\nSet-Cookie: x", Details: "a\r\nb\x00"}, `"gw??Set-Cookie: x";details="a??b?"`},
		{"non-ASCII replaced per character", ProxyStatus{Proxy: "é-proxy", Details: "caf\xe9 ☕"}, `"?-proxy";details="caf? ?"`},
		{"empty proxy name", ProxyStatus{}, `""`},
		{"received status out of range left out", ProxyStatus{Proxy: "gw", ReceivedStatus: 7}, "gw"},
		{
			"params of every type",
			ProxyStatus{Proxy: "gw", Params: []Param{
				{"a", int64(1)}, {"b", 2}, {"c", uint8(3)}, {"d", 1.25}, {"e", float32(0.5)}, {"f", true},
				{"g", false}, {"h", Token("t/1")}, {"i", Token("not a token")}, {"j", []byte("hi")},
				{"k", time.Unix(1700000000, 0)}, {"l", DisplayString("é")}, {"m", "s\x7f"},
			}},
			`gw;a=1;b=2;c=3;d=1.25;e=0.5;f;g=?0;h=t/1;i="not a token";j=:aGk=:;k=@1700000000;l=%"%c3%a9";m="s?"`,
		},
		{
			"unrepresentable params left out",
			ProxyStatus{Proxy: "gw", Params: []Param{
				{"Upper", 1}, {"", 1}, {"ok", struct{}{}}, {"nan", math.NaN()}, {"inf", math.Inf(1)},
				{"big", int64(1e15)}, {"ubig", uint64(1e15)}, {"error", Token("x")}, {"details", "x"},
				{"kept", 1},
			}},
			`gw;kept=1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.String()
			if got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
			if _, err := ParseProxyStatus(got); err != nil {
				t.Errorf("String() = %s, which does not parse: %v", got, err)
			}
		})
	}
}

func TestFormatProxyStatus(t *testing.T) {
	if got := FormatProxyStatus(); got != "" {
		t.Errorf("FormatProxyStatus() = %q, want empty", got)
	}
	got := FormatProxyStatus(ProxyStatus{Proxy: "origin", ReceivedStatus: 503}, ProxyStatus{Proxy: "gw", Kind: HTTPResponseTimeout})
	want := "origin;received-status=503, gw;error=http_response_timeout"
	if got != want {
		t.Errorf("FormatProxyStatus = %q, want %q", got, want)
	}
}

func TestAppendProxyStatus(t *testing.T) {
	own := ProxyStatus{Proxy: "gw", Kind: ConnectionRefused}
	hop := ProxyStatus{Proxy: "edge", ReceivedStatus: 502}
	tests := []struct {
		name     string
		existing []string
		members  []ProxyStatus // own alone if nil
		want     string
	}{
		{"no field", nil, nil, "gw;error=connection_refused"},
		{"no members", []string{"a"}, []ProxyStatus{}, "a"},
		{"several members, in order", []string{"a"}, []ProxyStatus{hop, own}, "a, edge;received-status=502, gw;error=connection_refused"},
		{"one member", []string{"origin;received-status=503"}, nil, "origin;received-status=503, gw;error=connection_refused"},
		{"two lines joined", []string{"a", "b;error=dns_error"}, nil, "a, b;error=dns_error, gw;error=connection_refused"},
		{"empty line ignored", []string{"", "a"}, nil, "a, gw;error=connection_refused"},
		{"invalid field replaced", []string{"a,,b"}, nil, "gw;error=connection_refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.existing {
				h.Add("Proxy-Status", v)
			}
			members := tt.members
			if members == nil {
				members = []ProxyStatus{own}
			}
			AppendProxyStatus(h, members...)
			if diff := cmp.Diff([]string{tt.want}, h.Values("Proxy-Status")); diff != "" {
				t.Errorf("Proxy-Status mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorProxyStatus(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.7:8080: connect: connection refused")
	tests := []struct {
		name    string
		err     *Error
		details bool
		want    string
	}{
		{"nil", nil, true, "gw"},
		{"kind", &Error{Kind: ConnectionRefused, Err: cause, NextHop: "10.0.0.7:8080"}, false, "gw;error=connection_refused"},
		{
			"details and next-hop when asked",
			&Error{Kind: ConnectionRefused, Err: cause, NextHop: "10.0.0.7:8080"}, true,
			`gw;error=connection_refused;next-hop="10.0.0.7:8080";details="dial tcp 10.0.0.7:8080: connect: connection refused"`,
		},
		{"upstream as next-hop fallback", &Error{Kind: ConnectionRefused, Upstream: "backend"}, true, "gw;error=connection_refused;next-hop=backend"},
		{"unknown is proxy_internal_error", &Error{Kind: Unknown}, false, "gw;error=proxy_internal_error"},
		{"client closed", &Error{Kind: ClientClosedRequest, Err: errors.New("context canceled")}, true, `gw;details="client closed request: context canceled"`},
		{"client closed, no cause", &Error{Kind: ClientClosedRequest}, true, `gw;details="client closed request"`},
		{"client closed, no details", &Error{Kind: ClientClosedRequest, Err: errors.New("context canceled")}, false, `gw`},
		{"dns timeout has no rcode", &Error{Kind: DNSTimeout, DNSRcode: "NXDOMAIN", DNSInfoCode: 22}, false, `gw;error=dns_timeout`},
		{"client closed without details", &Error{Kind: ClientClosedRequest}, true, `gw;details="client closed request"`},
		{
			"dns params",
			&Error{Kind: DNSError, DNSRcode: "NXDOMAIN", DNSInfoCode: -1, TLSAlertID: -1, Size: -1}, false,
			`gw;error=dns_error;rcode="NXDOMAIN"`,
		},
		{"dns info-code", &Error{Kind: DNSError, DNSRcode: "SERVFAIL", DNSInfoCode: 22}, false, `gw;error=dns_error;rcode="SERVFAIL";info-code=22`},
		{"tls alert", &Error{Kind: TLSAlertReceived, TLSAlertID: 42, TLSAlertMessage: "bad_certificate"}, false, `gw;error=tls_alert_received;alert-id=42;alert-message="bad_certificate"`},
		{"tls alert unknown id", &Error{Kind: TLSAlertReceived, TLSAlertID: -1}, false, `gw;error=tls_alert_received`},
		{"header section size", &Error{Kind: HTTPResponseHeaderSectionSize, Size: 1024}, false, `gw;error=http_response_header_section_size;header-section-size=1024`},
		{"header size", &Error{Kind: HTTPResponseHeaderSize, FieldName: "X-Big", Size: 10}, false, `gw;error=http_response_header_size;header-name="X-Big";header-size=10`},
		{"body size", &Error{Kind: HTTPResponseBodySize, Size: 5}, false, `gw;error=http_response_body_size;body-size=5`},
		{"trailer section size", &Error{Kind: HTTPResponseTrailerSectionSize, Size: 5}, false, `gw;error=http_response_trailer_section_size;trailer-section-size=5`},
		{"trailer size", &Error{Kind: HTTPResponseTrailerSize, FieldName: "T", Size: 5}, false, `gw;error=http_response_trailer_size;trailer-name="T";trailer-size=5`},
		{"unknown size left out", &Error{Kind: HTTPResponseBodySize, Size: -1}, false, `gw;error=http_response_body_size`},
		{"params of another kind ignored", &Error{Kind: ConnectionTimeout, DNSRcode: "NXDOMAIN", Size: 9}, false, `gw;error=connection_timeout`},
		{"error after a response", &Error{Kind: HTTPResponseIncomplete, ReceivedStatus: 200}, false, `gw;error=http_response_incomplete;received-status=200`},
		{"upstream's own response", &Error{Kind: DestinationUnavailable, ReceivedStatus: 503, fromResponse: true}, false, `gw;received-status=503`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.err.ProxyStatus("gw", tt.details).String()
			if got != tt.want {
				t.Errorf("ProxyStatus().String() = %s, want %s", got, tt.want)
			}
		})
	}
}

// FuzzParseProxyStatus checks that whatever ParseProxyStatus accepts formats
// to a valid field that parses back to the same members, and that formatting
// is then stable.
func FuzzParseProxyStatus(f *testing.F) {
	for _, s := range []string{
		"", "gw", `"a b", c;error=dns_error;rcode="NXDOMAIN"`,
		`gw;error=connection_timeout;next-hop=backend.example.com;details="x"`,
		`gw;z=?1;y=1.5;x=:AQI=:;w=@1700000000;v=%"caf%c3%a9";u=tok;t="s";received-status=503`,
		`gw;next-protocol=:aDI=:, (a b)`, "gw;a;b=1;a=2", "a,b,,c", "\x00",
		"gw;received-status=599", "gw;received-status=600",
		`gw;error=dns_error;rcode="SERVFAIL";info-code=65535`, "gw;error=dns_error;info-code=-3",
		"gw;error=tls_alert_received;alert-id=255;alert-message=bad_certificate", "gw;alert-id=256;error=tls_alert_received",
		`gw;error=http_response_header_size;header-name="X";header-size=0`, "gw;error=http_response_body_size;body-size=-5",
		"gw;error=http_response_trailer_size;trailer-name=T", "gw;error=connection_refused;alert-id=300;body-size=-5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		members, err := ParseProxyStatus(value)
		if err != nil {
			if !errors.Is(err, ErrInvalidProxyStatus) {
				t.Fatalf("error %v does not wrap ErrInvalidProxyStatus", err)
			}
			return
		}
		formatted := FormatProxyStatus(members...)
		if strings.ContainsAny(formatted, "\r\n\x00") {
			t.Fatalf("formatted %q contains CR, LF or NUL", formatted)
		}
		again, err := ParseProxyStatus(formatted)
		if err != nil {
			t.Fatalf("ParseProxyStatus(%q) = %v; formatted from %q", formatted, err, value)
		}
		if diff := cmp.Diff(members, again); diff != "" {
			t.Fatalf("round trip of %q through %q mismatch (-want +got):\n%s", value, formatted, diff)
		}
		if f2 := FormatProxyStatus(again...); f2 != formatted {
			t.Fatalf("formatting not stable: %q then %q", formatted, f2)
		}
	})
}

// FuzzProxyStatusString checks that String produces a valid list member
// whatever the fields hold.
func FuzzProxyStatusString(f *testing.F) {
	f.Add("gw", "dns_error", "next hop", "h2", "details\r\n", "key", "value", 502)
	f.Add("é", "", "", "\x00", "", "Bad", "\xff", 0)
	f.Add("gw", "tls_alert_received", "", "", "", "alert-id", "300", 600)
	f.Add("gw", "http_response_header_size", "", "", "", "header-name", "X", 599)
	f.Fuzz(func(t *testing.T, proxy, errTok, nextHop, nextProto, details, key, val string, status int) {
		p := ProxyStatus{
			Proxy: proxy, Error: errTok, NextHop: nextHop, NextProtocol: nextProto,
			Details: details, ReceivedStatus: status,
			Params: []Param{{key, val}, {key + "t", Token(val)}, {key + "d", DisplayString(val)}},
		}
		s := p.String()
		if _, err := httpsfv.UnmarshalList([]string{s}); err != nil {
			t.Fatalf("String() = %q, not a valid list: %v", s, err)
		}
		if _, err := ParseProxyStatus(s); err != nil {
			t.Fatalf("ParseProxyStatus(String()) = %v for %q", err, s)
		}
	})
}

// TestParseProxyStatusParamRules checks the type and range of every known
// parameter (RFC 9209, Sections 2.1 and 2.3): the bounds are accepted, a
// value past them or of another type is rejected with an error that names
// the member and the parameter.
func TestParseProxyStatusParamRules(t *testing.T) {
	tests := []struct {
		member  string // the parameters of member "gw"
		message string // part of the error; "" when the member is valid
	}{
		{"received-status=100", ""},
		{"received-status=599", ""},
		{"received-status=99", "received-status parameter 99 is not an HTTP status code"},
		{"received-status=600", "received-status parameter 600 is not an HTTP status code"},
		{"received-status=-1", "received-status parameter -1 is not an HTTP status code"},
		{"received-status=1.5", "received-status parameter is a decimal, want an integer"},

		{`error=dns_error;rcode="NXDOMAIN"`, ""},
		{`error=dns_error;rcode=NXDOMAIN`, "rcode parameter is a token, want a string"},
		{`error=dns_error;rcode=3`, "rcode parameter is an integer, want a string"},
		{"error=dns_error;info-code=0", ""},
		{"error=dns_error;info-code=65535", ""},
		{"error=dns_error;info-code=-3", "info-code parameter -3 is out of range (0 to 65535)"},
		{"error=dns_error;info-code=65536", "info-code parameter 65536 is out of range (0 to 65535)"},
		{`error=dns_error;info-code="3"`, "info-code parameter is a string, want an integer"},

		{"error=tls_alert_received;alert-id=0", ""},
		{"error=tls_alert_received;alert-id=255", ""},
		{"error=tls_alert_received;alert-id=-1", "alert-id parameter -1 is out of range (0 to 255)"},
		{"error=tls_alert_received;alert-id=256", "alert-id parameter 256 is out of range (0 to 255)"},
		{"error=tls_alert_received;alert-id=?1", "alert-id parameter is a boolean, want an integer"},
		{`error=tls_alert_received;alert-message="bad_certificate"`, ""},
		{"error=tls_alert_received;alert-message=bad_certificate", ""},
		{"error=tls_alert_received;alert-message=42", "alert-message parameter is an integer, want a token or string"},
		{`error=tls_alert_received;alert-message=%"x"`, "alert-message parameter is a display string, want a token or string"},

		{`error=http_response_header_size;header-name="X-Big"`, ""},
		{"error=http_response_header_size;header-name=X-Big", "header-name parameter is a token, want a string"},
		{`error=http_response_trailer_size;trailer-name="T"`, ""},
		{"error=http_response_trailer_size;trailer-name=:VA==:", "trailer-name parameter is a byte sequence, want a string"},
	}
	sizes := []struct{ errType, key string }{
		{"http_response_header_section_size", "header-section-size"},
		{"http_response_header_size", "header-size"},
		{"http_response_body_size", "body-size"},
		{"http_response_trailer_section_size", "trailer-section-size"},
		{"http_response_trailer_size", "trailer-size"},
	}
	for _, s := range sizes {
		pre := "error=" + s.errType + ";" + s.key + "="
		tests = append(tests, []struct{ member, message string }{
			{pre + "0", ""},
			{pre + "999999999999999", ""},
			{pre + "-5", s.key + " parameter -5 is negative"},
			{pre + `"5"`, s.key + " parameter is a string, want an integer"},
			{pre + "5.0", s.key + " parameter is a decimal, want an integer"},
		}...)
	}
	for _, tt := range tests {
		value := "a, gw;" + tt.member
		t.Run(tt.member, func(t *testing.T) {
			got, err := ParseProxyStatus(value)
			if tt.message == "" {
				if err != nil {
					t.Fatalf("ParseProxyStatus(%q): %v", value, err)
				}
				again, err := ParseProxyStatus(FormatProxyStatus(got...))
				if err != nil {
					t.Fatalf("round trip of %q: %v", value, err)
				}
				if diff := cmp.Diff(got, again); diff != "" {
					t.Errorf("round trip of %q mismatch (-want +got):\n%s", value, diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseProxyStatus(%q) = %+v, want an error", value, got)
			}
			if !errors.Is(err, ErrInvalidProxyStatus) {
				t.Errorf("error %q does not wrap ErrInvalidProxyStatus", err)
			}
			if want := `member 2: "gw": ` + tt.message; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
}

// TestParseProxyStatusExtraParamScope checks that an extra parameter is
// checked only on a member of the error type that defines it (RFC 9209,
// Section 2.1.1: elsewhere it is ignored), wherever the error parameter is.
func TestParseProxyStatusExtraParamScope(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []ProxyStatus
	}{
		{"no error", "gw;alert-id=300;body-size=-5", []ProxyStatus{{Proxy: "gw", Params: []Param{{"alert-id", int64(300)}, {"body-size", int64(-5)}}}}},
		{
			"another error type", `gw;error=connection_refused;info-code=-3;rcode=X`,
			[]ProxyStatus{{Proxy: "gw", Kind: ConnectionRefused, Error: "connection_refused", Params: []Param{{"info-code", int64(-3)}, {"rcode", Token("X")}}}},
		},
		{
			"unregistered error type", `gw;error=x_custom;alert-id=-1`,
			[]ProxyStatus{{Proxy: "gw", Error: "x_custom", Params: []Param{{"alert-id", int64(-1)}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProxyStatus(tt.value)
			if err != nil {
				t.Fatalf("ParseProxyStatus(%q): %v", tt.value, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseProxyStatus(%q) mismatch (-want +got):\n%s", tt.value, diff)
			}
			if s := FormatProxyStatus(got...); s != tt.value {
				t.Errorf("FormatProxyStatus = %s, want %s", s, tt.value)
			}
		})
	}
	// The error parameter after the extra one still scopes it.
	if _, err := ParseProxyStatus("gw;alert-id=300;error=tls_alert_received"); !errors.Is(err, ErrInvalidProxyStatus) {
		t.Errorf("alert-id before error: err = %v, want ErrInvalidProxyStatus", err)
	}
}

// TestProxyStatusStringOmitsInvalid checks that String leaves out every value
// that ParseProxyStatus would reject, so that its result always parses.
func TestProxyStatusStringOmitsInvalid(t *testing.T) {
	tests := []struct {
		name string
		p    ProxyStatus
		want string
	}{
		{"received-status 600", ProxyStatus{Proxy: "gw", ReceivedStatus: 600}, "gw"},
		{"received-status 599", ProxyStatus{Proxy: "gw", ReceivedStatus: 599}, "gw;received-status=599"},
		{
			"alert params", ProxyStatus{Proxy: "gw", Kind: TLSAlertReceived, Params: []Param{
				{"alert-id", 300}, {"alert-id", -1}, {"alert-id", "42"}, {"alert-message", 1}, {"alert-id", uint8(255)}, {"alert-message", Token("bad_certificate")},
			}},
			"gw;error=tls_alert_received;alert-id=255;alert-message=bad_certificate",
		},
		{
			"dns params", ProxyStatus{Proxy: "gw", Error: "dns_error", Params: []Param{
				{"info-code", 65536}, {"rcode", Token("NXDOMAIN")}, {"info-code", int16(-3)}, {"rcode", "SERVFAIL"}, {"info-code", uint16(65535)},
			}},
			`gw;error=dns_error;rcode="SERVFAIL";info-code=65535`,
		},
		{
			"sizes", ProxyStatus{Proxy: "gw", Kind: HTTPResponseHeaderSize, Params: []Param{
				{"header-size", int64(-5)}, {"header-name", Token("X")}, {"header-size", 0}, {"header-name", "X-Big"},
			}},
			`gw;error=http_response_header_size;header-size=0;header-name="X-Big"`,
		},
		{"body-size negative", ProxyStatus{Proxy: "gw", Kind: HTTPResponseBodySize, Params: []Param{{"body-size", -5}}}, "gw;error=http_response_body_size"},
		{"extra params of another type kept", ProxyStatus{Proxy: "gw", Kind: ConnectionRefused, Params: []Param{{"alert-id", 300}}}, "gw;error=connection_refused;alert-id=300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.String()
			if got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
			if _, err := ParseProxyStatus(got); err != nil {
				t.Errorf("String() = %s, which does not parse: %v", got, err)
			}
		})
	}
	// An Error holding values out of range gives a member without them.
	e := &Error{Kind: TLSAlertReceived, TLSAlertID: 300, TLSAlertMessage: "x", ReceivedStatus: 700}
	if got, want := e.ProxyStatus("gw", false).String(), `gw;error=tls_alert_received;alert-message="x"`; got != want {
		t.Errorf("ProxyStatus().String() = %s, want %s", got, want)
	}
	e = &Error{Kind: DNSError, DNSInfoCode: 70000}
	if got, want := e.ProxyStatus("gw", false).String(), `gw;error=dns_error`; got != want {
		t.Errorf("ProxyStatus().String() = %s, want %s", got, want)
	}
}
