package errorpage_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gatehouse-go/gatehouse/errorpage"
	"github.com/gatehouse-go/gatehouse/gatewayerr"
)

// Counting the pages served, by status, kind and format.
func ExampleConfig_onServe() {
	pages, err := errorpage.New(errorpage.Config{
		OnServe: func(s errorpage.ServedPage) {
			kind := "(by status)"
			if s.Err != nil {
				kind = s.Err.Kind.String()
			}
			fmt.Println(s.Status, kind, s.Format)
		},
	})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept", "application/problem+json")
	pages.ServeError(httptest.NewRecorder(), r, gatewayerr.ConnectionRefused)
	pages.ServeStatus(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), http.StatusNotFound)
	// Output:
	// 502 connection_refused problem+json
	// 404 (by status) html
}
