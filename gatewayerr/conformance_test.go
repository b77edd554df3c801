package gatewayerr

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sfTest is one record of the HTTP WG structured-field tests
// (testdata/structured-field-tests, see its SOURCE and LICENSE.md).
type sfTest struct {
	Name       string          `json:"name"`
	Raw        []string        `json:"raw"`
	HeaderType string          `json:"header_type"`
	Expected   json.RawMessage `json:"expected"`
	MustFail   bool            `json:"must_fail"`
	CanFail    bool            `json:"can_fail"`
}

// sfMember is an expected list member as this test compares it: the name of
// a token or string member and its parameters sorted by key.
type sfMember struct {
	Name   string
	Params []Param
}

// TestStructuredFieldConformance runs every list-shaped case of the HTTP WG
// structured-field tests through ParseProxyStatusHeader: each must_fail case
// must be rejected; each valid list whose members are all tokens or strings
// must be accepted with the same members and parameters, and survive a
// format-and-parse round trip; each valid list with other members (numbers,
// inner lists, ...) is not a Proxy-Status and must be rejected. The item
// cases of the string and token files that are valid are run as one-member
// lists.
func TestStructuredFieldConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "structured-field-tests", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conformance files: %v", err)
	}
	var passed, total int
	var rejected, accepted, notProxyStatus int // cases of each sort that passed
	for _, file := range files {
		base := filepath.Base(file)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cases []sfTest
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&cases); err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		filePassed, fileTotal := 0, 0
		for _, tc := range cases {
			asItem := tc.HeaderType == "item" && !tc.MustFail &&
				(strings.HasPrefix(base, "string") || strings.HasPrefix(base, "token"))
			if tc.HeaderType != "list" && !asItem {
				continue
			}
			fileTotal++
			ok := t.Run(base+"/"+tc.Name, func(t *testing.T) {
				h := http.Header{"Proxy-Status": tc.Raw}
				got, err := ParseProxyStatusHeader(h)
				if tc.MustFail {
					if err == nil {
						t.Fatalf("ParseProxyStatusHeader(%q) = %+v, want an error", tc.Raw, got)
					}
					if !errors.Is(err, ErrInvalidProxyStatus) {
						t.Fatalf("error %v does not wrap ErrInvalidProxyStatus", err)
					}
					rejected++
					return
				}
				var want []sfMember
				var valid bool
				if asItem {
					var m sfMember
					m, valid = expectedMember(t, tc.Expected)
					want = []sfMember{m}
				} else {
					want, valid = expectedList(t, tc.Expected)
				}
				if !valid {
					// A valid list, but not one of named intermediaries.
					if err == nil {
						t.Fatalf("ParseProxyStatusHeader(%q) = %+v, want an error: members are not tokens or strings", tc.Raw, got)
					}
					notProxyStatus++
					return
				}
				if err != nil {
					if tc.CanFail {
						t.Skipf("can_fail case rejected: %v", err)
					}
					t.Fatalf("ParseProxyStatusHeader(%q): %v", tc.Raw, err)
				}
				if diff := cmp.Diff(want, membersOf(got)); diff != "" {
					t.Fatalf("ParseProxyStatusHeader(%q) mismatch (-want +got):\n%s", tc.Raw, diff)
				}
				again, err := ParseProxyStatus(FormatProxyStatus(got...))
				if err != nil {
					t.Fatalf("ParseProxyStatus(FormatProxyStatus(...)) = %v", err)
				}
				if diff := cmp.Diff(membersOf(got), membersOf(again)); diff != "" {
					t.Fatalf("round trip mismatch (-want +got):\n%s", diff)
				}
				accepted++
			})
			if ok {
				filePassed++
			}
		}
		if fileTotal > 0 {
			t.Logf("%s: %d/%d passed", base, filePassed, fileTotal)
		}
		passed += filePassed
		total += fileTotal
	}
	t.Logf("structured-field conformance: %d/%d passed: %d must_fail rejected, %d token/string lists accepted with the same members and parameters, %d valid lists of other members rejected as not Proxy-Status",
		passed, total, rejected, accepted, notProxyStatus)
}

// membersOf converts parsed members to the shape the test vectors describe.
func membersOf(ps []ProxyStatus) []sfMember {
	out := make([]sfMember, 0, len(ps))
	for _, p := range ps {
		m := sfMember{Name: p.Proxy}
		if p.Error != "" {
			m.Params = append(m.Params, Param{paramError, Token(p.Error)})
		}
		if p.ReceivedStatus != 0 {
			m.Params = append(m.Params, Param{paramReceivedStatus, int64(p.ReceivedStatus)})
		}
		if p.NextHop != "" {
			m.Params = append(m.Params, Param{paramNextHop, p.NextHop})
		}
		if p.NextProtocol != "" {
			m.Params = append(m.Params, Param{paramNextProtocol, p.NextProtocol})
		}
		if p.Details != "" {
			m.Params = append(m.Params, Param{paramDetails, p.Details})
		}
		m.Params = append(m.Params, p.Params...)
		sortParams(m.Params)
		out = append(out, m)
	}
	return out
}

func sortParams(ps []Param) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
}

// expectedList decodes an expected list, reporting false when a member is
// not an item whose bare item is a token or a string.
func expectedList(t *testing.T, raw json.RawMessage) ([]sfMember, bool) {
	t.Helper()
	var members []json.RawMessage
	if err := decodeNumbers(raw, &members); err != nil {
		t.Fatalf("expected: %v", err)
	}
	out := make([]sfMember, 0, len(members))
	for _, rm := range members {
		m, ok := expectedMember(t, rm)
		if !ok {
			return nil, false
		}
		out = append(out, m)
	}
	return out, true
}

// expectedMember decodes an expected item [bare-item, params].
func expectedMember(t *testing.T, raw json.RawMessage) (sfMember, bool) {
	t.Helper()
	var item []json.RawMessage
	if err := decodeNumbers(raw, &item); err != nil || len(item) != 2 {
		t.Fatalf("expected item %s: %v", raw, err)
	}
	v := bareItem(t, item[0])
	var name string
	switch v := v.(type) {
	case string:
		name = v
	case Token:
		name = string(v)
	default:
		return sfMember{}, false
	}
	var params [][2]json.RawMessage
	if err := decodeNumbers(item[1], &params); err != nil {
		// An inner list's first element is an array of items, whose
		// "parameters" do not decode as pairs.
		return sfMember{}, false
	}
	m := sfMember{Name: name}
	for _, kv := range params {
		var k string
		if err := json.Unmarshal(kv[0], &k); err != nil {
			t.Fatalf("param key %s: %v", kv[0], err)
		}
		pv := bareItem(t, kv[1])
		switch k {
		case paramNextHop, paramNextProtocol:
			// The member keeps these as text, token or not.
			switch x := pv.(type) {
			case Token:
				pv = string(x)
			case []byte:
				pv = string(x)
			}
		}
		m.Params = append(m.Params, Param{k, pv})
	}
	sortParams(m.Params)
	return m, true
}

// bareItem decodes an expected bare item to the types of Param.Value, or
// returns a []json.RawMessage for an inner list.
func bareItem(t *testing.T, raw json.RawMessage) any {
	t.Helper()
	var v any
	if err := decodeNumbers(raw, &v); err != nil {
		t.Fatalf("bare item %s: %v", raw, err)
	}
	switch v := v.(type) {
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			f, err := v.Float64()
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		n, err := v.Int64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	case string, bool:
		return v
	case []any:
		return v
	case map[string]any:
		typ, _ := v["__type"].(string)
		switch typ {
		case "token":
			return Token(v["value"].(string))
		case "displaystring":
			return DisplayString(v["value"].(string))
		case "binary":
			b, err := base32.StdEncoding.DecodeString(v["value"].(string))
			if err != nil {
				t.Fatal(err)
			}
			return b
		case "date":
			n, err := v["value"].(json.Number).Int64()
			if err != nil {
				t.Fatal(err)
			}
			return time.Unix(n, 0)
		}
	}
	t.Fatalf("unexpected bare item %s", raw)
	return nil
}

func decodeNumbers(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", raw, err)
	}
	return nil
}
