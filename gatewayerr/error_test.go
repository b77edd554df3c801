package gatewayerr

import (
	"errors"
	"testing"
)

func TestIsGatewayStatus(t *testing.T) {
	for code := 0; code <= 700; code++ {
		want := code == 502 || code == 503 || code == 504
		if got := IsGatewayStatus(code); got != want {
			t.Errorf("IsGatewayStatus(%d) = %v, want %v", code, got, want)
		}
	}
}

func TestReported(t *testing.T) {
	cause := errors.New("modify response failed")
	tests := []struct {
		name       string
		e          *Error
		wantKind   Kind
		wantStatus int
		same       bool // Reported returns e itself
	}{
		{"unknown, nothing received", &Error{Err: cause, Upstream: "app:80"}, ProxyInternalError, 500, false},
		{"zero", &Error{}, ProxyInternalError, 500, false},
		{"unknown after a 502", &Error{Kind: Unknown, ReceivedStatus: 502}, Unknown, 502, true},
		{"unknown after a 404, replaced", &Error{Kind: Unknown, ReceivedStatus: 404}, Unknown, 404, true},
		{"unknown after a 200", &Error{Kind: Unknown, ReceivedStatus: 200}, Unknown, 502, true},
		{"identified", &Error{Kind: ConnectionRefused}, ConnectionRefused, 502, true},
		{"client gone", &Error{Kind: ClientClosedRequest}, ClientClosedRequest, 499, true},
		{"classified text", Classify(cause), ProxyInternalError, 500, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := *tt.e
			got := tt.e.Reported()
			if got.Kind != tt.wantKind || got.StatusCode() != tt.wantStatus {
				t.Errorf("Reported() = %v %d, want %v %d", got.Kind, got.StatusCode(), tt.wantKind, tt.wantStatus)
			}
			if (got == tt.e) != tt.same {
				t.Errorf("Reported() returned e itself: %v, want %v", got == tt.e, tt.same)
			}
			if tt.e.Kind != before.Kind {
				t.Errorf("Reported() changed e's kind to %v", tt.e.Kind)
			}
			if got.Err != tt.e.Err || got.Upstream != tt.e.Upstream {
				t.Errorf("Reported() lost fields: %+v from %+v", got, tt.e)
			}
			// The page's kind and the Proxy-Status member agree.
			if ps := got.ProxyStatus("gw", false); got.ReceivedStatus == 0 && ps.Kind != got.Kind && got.Kind != ClientClosedRequest {
				t.Errorf("ProxyStatus kind %v, Reported kind %v", ps.Kind, got.Kind)
			}
		})
	}
}
