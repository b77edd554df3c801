package gatewayerr

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExtraParamsInKindOrder checks that extraParams lists its entries in
// the order of their kinds, as kindParams reads it.
func TestExtraParamsInKindOrder(t *testing.T) {
	for i := 1; i < len(extraParams); i++ {
		if extraParams[i].kind < extraParams[i-1].kind {
			t.Errorf("extraParams[%d] (%v) comes after extraParams[%d] (%v)", i, extraParams[i].kind, i-1, extraParams[i-1].kind)
		}
	}
}

// TestExtraParamsRoundTrip sends every kind's extra parameters through
// Error.ProxyStatus, String, ParseProxyStatus and back into an Error's
// fields, as ClassifyResponse reads them: the one table serves both ways.
func TestExtraParamsRoundTrip(t *testing.T) {
	type fields struct {
		DNSRcode        string
		DNSInfoCode     int
		TLSAlertID      int
		TLSAlertMessage string
		FieldName       string
		Size            int64
	}
	full := fields{"NXDOMAIN", 3, 42, "bad_certificate", "X-Big", 9000}
	for _, k := range Kinds() {
		e := &Error{Kind: k, DNSRcode: full.DNSRcode, DNSInfoCode: full.DNSInfoCode, TLSAlertID: full.TLSAlertID,
			TLSAlertMessage: full.TLSAlertMessage, FieldName: full.FieldName, Size: full.Size}
		ms, err := ParseProxyStatus(e.ProxyStatus("gw", false).String())
		if err != nil || len(ms) != 1 {
			t.Fatalf("%v: ParseProxyStatus = %v, %v", k, ms, err)
		}
		back := &Error{DNSInfoCode: -1, TLSAlertID: -1, Size: -1}
		fromParams(back, ms[0].Error, ms[0].Params)
		want := fields{DNSInfoCode: -1, TLSAlertID: -1, Size: -1}
		keys := 0
		for _, x := range extraParams {
			if x.kind != k {
				continue
			}
			keys++
			switch x.field {
			case fieldRcode:
				want.DNSRcode = full.DNSRcode
			case fieldInfoCode:
				want.DNSInfoCode = full.DNSInfoCode
			case fieldAlertID:
				want.TLSAlertID = full.TLSAlertID
			case fieldAlertMessage:
				want.TLSAlertMessage = full.TLSAlertMessage
			case fieldName:
				want.FieldName = full.FieldName
			case fieldSize:
				want.Size = full.Size
			}
		}
		got := fields{back.DNSRcode, back.DNSInfoCode, back.TLSAlertID, back.TLSAlertMessage, back.FieldName, back.Size}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%v: fields after the round trip (-want +got):\n%s", k, diff)
		}
		if len(ms[0].Params) != keys {
			t.Errorf("%v: %d parameters %v, want %d", k, len(ms[0].Params), ms[0].Params, keys)
		}
	}
}
