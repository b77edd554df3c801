package respwriter

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// FuzzWriter drives a Writer with arbitrary sequences of handler calls and
// checks what reaches the wrapped writer: at most one final status, nothing
// after a hijack, nothing at all of a held response, and 1xx statuses only
// before the final one.
func FuzzWriter(f *testing.F) {
	f.Add([]byte{0, 1, 3}, false, false, false)
	f.Add([]byte{5 + 8, 0 + 6*8, 1 + 2*8, 3, 1}, true, false, false)
	f.Add([]byte{0 + 2*8, 0 + 6*8, 6, 0 + 7*8, 1}, true, false, true)
	f.Add([]byte{0 + 6*8, 4 + 8, 2 + 3*8, 7}, true, false, false)
	f.Add([]byte{5 + 2*8, 0 + 6*8, 1 + 3*8}, false, true, false)
	statuses := []int{100, 101, 103, 200, 204, 404, 502, 503}
	bodies := []string{"", "x", "<!DOCTYPE html><p>page</p>", `{"error":"x"}`}
	types := []string{"", "text/html; charset=utf-8", "application/json", "text/plain"}
	f.Fuzz(func(t *testing.T, ops []byte, keepHTML, keepStructured, head bool) {
		cfg := Config{KeepHTML: keepHTML, KeepStructured: keepStructured}
		cfg.Intercept.Add(502)
		cfg.Intercept.Add(503)
		rw, fake := newFake(hasFlusher | hasHijacker | hasReaderFrom)
		var w Writer
		w.Reset(rw, &cfg, head)
		v := w.View()
		for _, op := range ops {
			arg := int(op >> 3)
			switch op & 7 {
			case 0:
				v.WriteHeader(statuses[arg%len(statuses)])
			case 1:
				v.Write([]byte(bodies[arg%len(bodies)]))
			case 2:
				io.WriteString(v, bodies[arg%len(bodies)])
			case 3:
				v.(http.Flusher).Flush()
			case 4:
				v.(io.ReaderFrom).ReadFrom(strings.NewReader(bodies[arg%len(bodies)]))
			case 5:
				v.Header().Set("Content-Type", types[arg%len(types)])
			case 6:
				v.(http.Hijacker).Hijack()
			case 7:
				v.Header().Set("Content-Length", strconv.Itoa(arg%2))
			}
		}

		final := 0 // the final status the wrapped writer got
		hijacked, wrote := false, false
		for _, c := range fake.calls {
			if hijacked {
				t.Fatalf("%q after Hijack; calls: %q", c, fake.calls)
			}
			switch {
			case c == "Hijack":
				hijacked = true
			case strings.HasPrefix(c, "WriteHeader "):
				code, _ := strconv.Atoi(strings.TrimPrefix(c, "WriteHeader "))
				if final != 0 {
					t.Fatalf("WriteHeader %d after status %d; calls: %q", code, final, fake.calls)
				}
				if code >= 200 || code == 101 {
					final = code
				} else if wrote {
					t.Fatalf("1xx status after the body; calls: %q", fake.calls)
				}
			default: // Write, ReadFrom, Flush
				wrote = true
				if final == 0 {
					final = 200 // net/http's implicit status
				}
			}
		}
		if held, ok := w.Held(); ok {
			if final != 0 {
				t.Fatalf("held %d, yet status %d reached the wrapped writer; calls: %q", held, final, fake.calls)
			}
			if !cfg.Intercept.Has(held) {
				t.Fatalf("held %d, which is not intercepted", held)
			}
			return
		}
		if final != 0 && !hijacked && final != w.Status() {
			t.Fatalf("Status() = %d, but %d was sent; calls: %q", w.Status(), final, fake.calls)
		}
		if final != 0 && cfg.Intercept.Has(final) && !keepHTML && !keepStructured {
			t.Fatalf("intercepted status %d was sent; calls: %q", final, fake.calls)
		}
	})
}
