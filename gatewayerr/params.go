package gatewayerr

import (
	"fmt"
	"math"
)

// extraParams is the table of RFC 9209, Section 2.3: the parameters it
// defines for one error type each, in the order a member carries them, and
// the [Error] field each one reports. Its entries are in the order of their
// kinds (kindParams stops at the first past the kind it looks for). It is
// the only place the table is written: parsing checks against it,
// [Error.ProxyStatus] and [ClassifyResponse] map fields through it, and
// [ProxyStatus.Redacted] keeps only its parameters, none of which names an
// address.
var extraParams = [...]struct {
	kind  Kind
	key   string
	field paramField
}{
	{DNSError, "rcode", fieldRcode}, // Section 2.3.2
	{DNSError, "info-code", fieldInfoCode},
	{TLSAlertReceived, "alert-id", fieldAlertID}, // Section 2.3.15
	{TLSAlertReceived, "alert-message", fieldAlertMessage},
	{HTTPResponseHeaderSectionSize, "header-section-size", fieldSize}, // Section 2.3.19
	{HTTPResponseHeaderSize, "header-name", fieldName},                // Section 2.3.20
	{HTTPResponseHeaderSize, "header-size", fieldSize},
	{HTTPResponseBodySize, "body-size", fieldSize},                      // Section 2.3.21
	{HTTPResponseTrailerSectionSize, "trailer-section-size", fieldSize}, // Section 2.3.22
	{HTTPResponseTrailerSize, "trailer-name", fieldName},                // Section 2.3.23
	{HTTPResponseTrailerSize, "trailer-size", fieldSize},
}

// A paramField is the [Error] field that an extra parameter reports, which
// also fixes the parameter's type and range.
type paramField uint8

const (
	fieldNone         paramField = iota // not an extra parameter: anything goes
	fieldRcode                          // DNSRcode: a string
	fieldInfoCode                       // DNSInfoCode: an integer from 0 to 65535 (RFC 8914 INFO-CODE)
	fieldAlertID                        // TLSAlertID: an integer from 0 to 255 (TLS AlertDescription)
	fieldAlertMessage                   // TLSAlertMessage: a token or a string
	fieldName                           // FieldName: a string
	fieldSize                           // Size: an integer from 0
)

// extraParam returns the field of the parameter key on a member whose error
// parameter is errType: fieldNone unless RFC 9209 defines key as an extra
// parameter of errType.
func extraParam(errType, key string) paramField {
	for _, x := range extraParams {
		if x.key == key && x.kind.String() == errType {
			return x.field
		}
	}
	return fieldNone
}

// check returns what is wrong with v, a value of the types that parsing puts
// in [Param], as a parameter for field f, or "" when it is valid.
func (f paramField) check(v any) string {
	var lo, hi int64
	switch f {
	case fieldNone:
		return ""
	case fieldRcode, fieldName:
		if _, ok := v.(string); !ok {
			return "is " + paramType(v) + ", want a string"
		}
		return ""
	case fieldAlertMessage:
		switch v.(type) {
		case string, Token:
			return ""
		}
		return "is " + paramType(v) + ", want a token or string"
	case fieldInfoCode:
		lo, hi = 0, 65535
	case fieldAlertID:
		lo, hi = 0, 255
	case fieldSize:
		lo, hi = 0, math.MaxInt64
	}
	n, ok := v.(int64)
	if !ok {
		return "is " + paramType(v) + ", want an integer"
	}
	if n < lo || n > hi {
		if hi == math.MaxInt64 {
			return fmt.Sprintf("%d is negative", n)
		}
		return fmt.Sprintf("%d is out of range (%d to %d)", n, lo, hi)
	}
	return ""
}

// kindParams appends the extra parameters of e's kind that e's fields know.
func (e *Error) kindParams(ps []Param) []Param {
	// Every kind's Proxy-Status member passes here: the table, in the order
	// of its kinds, is read by index up to the first entry past e's kind.
	for i := range extraParams {
		x := &extraParams[i]
		if x.kind > e.Kind {
			break
		}
		if x.kind == e.Kind {
			if v, ok := e.paramValue(x.field); ok {
				ps = append(ps, Param{x.key, v})
			}
		}
	}
	return ps
}

// paramValue returns the value of field f, and false when it is not known.
// Code 0 of info-code ("Other Error") says nothing more than the rcode,
// alert 0 (close_notify) is never a tls_alert_received, and no limit is 0
// bytes: those count as not known, so a zero field is fine in a literal.
func (e *Error) paramValue(f paramField) (any, bool) {
	switch f {
	case fieldRcode:
		if e.DNSRcode != "" {
			return e.DNSRcode, true
		}
	case fieldInfoCode:
		if e.DNSInfoCode > 0 && e.DNSInfoCode <= 65535 {
			return int64(e.DNSInfoCode), true
		}
	case fieldAlertID:
		if e.TLSAlertID > 0 && e.TLSAlertID <= 255 {
			return int64(e.TLSAlertID), true
		}
	case fieldAlertMessage:
		if e.TLSAlertMessage != "" {
			return e.TLSAlertMessage, true
		}
	case fieldName:
		if e.FieldName != "" {
			return e.FieldName, true
		}
	case fieldSize:
		if e.Size > 0 {
			return e.Size, true
		}
	}
	return nil, false
}

// fromParams fills e's fields from the parameters of a member whose error
// parameter is errType: only from the extra parameters that RFC 9209
// defines for errType, and only from valid values.
func fromParams(e *Error, errType string, params []Param) {
	for _, p := range params {
		f := extraParam(errType, p.Key)
		if f == fieldNone || f.check(p.Value) != "" {
			continue
		}
		switch f {
		case fieldRcode:
			e.DNSRcode = p.Value.(string)
		case fieldInfoCode:
			e.DNSInfoCode = int(p.Value.(int64))
		case fieldAlertID:
			e.TLSAlertID = int(p.Value.(int64))
		case fieldAlertMessage:
			switch v := p.Value.(type) {
			case Token:
				e.TLSAlertMessage = string(v)
			case string:
				e.TLSAlertMessage = v
			}
		case fieldName:
			e.FieldName = p.Value.(string)
		case fieldSize:
			e.Size = p.Value.(int64)
		}
	}
}
