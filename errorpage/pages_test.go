package errorpage

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

func TestServeErrorBasic(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	p.ServeError(rec, r, &gatewayerr.Error{Kind: gatewayerr.ConnectionRefused})
	if rec.Code != http.StatusBadGateway {
		t.Errorf("status = %d, want 502", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "502 Bad Gateway") {
		t.Errorf("body lacks status: %s", rec.Body)
	}
}
