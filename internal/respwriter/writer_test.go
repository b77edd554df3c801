package respwriter

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestViewHasExactlyTheWrappedInterfaces(t *testing.T) {
	var cfg Config
	for m := uint8(0); m < 32; m++ {
		rw, _ := newFake(m)
		var w Writer
		w.Reset(rw, &cfg, false)
		v := w.View()
		if got := interfaces(v); got != m {
			t.Errorf("mask %05b: view has interfaces %05b", m, got)
		}
		if got := v.(interface{ Unwrap() http.ResponseWriter }).Unwrap(); got != rw {
			t.Errorf("mask %05b: Unwrap returned %T, want the wrapped writer", m, got)
		}
		if Find(v) != &w {
			t.Errorf("mask %05b: Find did not return the Writer", m)
		}
		if allocs := testing.AllocsPerRun(100, func() { _ = w.View() }); allocs != 0 {
			t.Errorf("mask %05b: View allocates %v times", m, allocs)
		}
	}
}

func TestViewForwardsOptionalMethods(t *testing.T) {
	var cfg Config
	rw, fake := newFake(hasFlusher | hasHijacker | hasReaderFrom | hasPusher | hasCloseNotifier)
	var w Writer
	w.Reset(rw, &cfg, false)
	v := w.View()
	if err := v.(http.Pusher).Push("/style.css", nil); err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 testing that it is kept
	v.(http.CloseNotifier).CloseNotify()
	if _, err := v.(io.ReaderFrom).ReadFrom(strings.NewReader("body")); err != nil {
		t.Fatal(err)
	}
	v.(http.Flusher).Flush()
	if _, _, err := v.(http.Hijacker).Hijack(); err != nil {
		t.Fatal(err)
	}
	v.WriteHeader(http.StatusOK)
	if _, err := v.Write([]byte("more")); !errors.Is(err, http.ErrHijacked) {
		t.Errorf("Write after Hijack: got %v, want http.ErrHijacked", err)
	}
	want := []string{"Push /style.css", "CloseNotify", "ReadFrom", "Flush", "Hijack"}
	if diff := cmp.Diff(want, fake.calls); diff != "" {
		t.Errorf("calls on the wrapped writer (-want +got):\n%s", diff)
	}
	if !w.Hijacked() || !w.Committed() {
		t.Error("after Hijack: Hijacked or Committed is false")
	}
}

// op is one call a handler makes on the view.
type op func(t *testing.T, v http.ResponseWriter)

func header(k, val string) op {
	return func(t *testing.T, v http.ResponseWriter) { v.Header().Set(k, val) }
}

func status(code int) op {
	return func(t *testing.T, v http.ResponseWriter) { v.WriteHeader(code) }
}

func write(s string) op {
	return func(t *testing.T, v http.ResponseWriter) {
		n, err := v.Write([]byte(s))
		if n != len(s) || err != nil {
			t.Errorf("Write(%q) = %d, %v", s, n, err)
		}
	}
}

func writeString(s string) op {
	return func(t *testing.T, v http.ResponseWriter) {
		n, err := io.WriteString(v, s)
		if n != len(s) || err != nil {
			t.Errorf("WriteString(%q) = %d, %v", s, n, err)
		}
	}
}

func readFrom(s string) op {
	return func(t *testing.T, v http.ResponseWriter) {
		n, err := v.(io.ReaderFrom).ReadFrom(strings.NewReader(s))
		if n != int64(len(s)) || err != nil {
			t.Errorf("ReadFrom(%q) = %d, %v", s, n, err)
		}
	}
}

func flush(t *testing.T, v http.ResponseWriter) { v.(http.Flusher).Flush() }

func TestWriterStates(t *testing.T) {
	var std Config
	for _, c := range []int{502, 503, 504} {
		std.Intercept.Add(c)
	}
	keep := std
	keep.KeepHTML = true
	structured := std
	structured.KeepStructured = true

	tests := []struct {
		name      string
		cfg       *Config
		head      bool
		ops       []op
		wantCalls []string
		wantBody  string
		wantHeld  int // 0: nothing held
		wantState int
	}{
		{
			name:      "implicit 200",
			cfg:       &std,
			ops:       []op{write("hello")},
			wantCalls: []string{"Write"},
			wantBody:  "hello",
			wantState: 200,
		},
		{
			name:      "status not intercepted, second status dropped",
			cfg:       &std,
			ops:       []op{status(404), write("nf"), status(500)},
			wantCalls: []string{"WriteHeader 404", "Write"},
			wantBody:  "nf",
			wantState: 404,
		},
		{
			name:      "informational statuses go through",
			cfg:       &std,
			ops:       []op{status(103), status(100), status(200), write("ok")},
			wantCalls: []string{"WriteHeader 103", "WriteHeader 100", "WriteHeader 200", "Write"},
			wantBody:  "ok",
			wantState: 200,
		},
		{
			name:      "101 is never intercepted",
			cfg:       func() *Config { c := std; c.Intercept.Add(101); return &c }(),
			ops:       []op{status(101)},
			wantCalls: []string{"WriteHeader 101"},
			wantState: 101,
		},
		{
			name:      "intercepted status: body discarded in every way",
			cfg:       &std,
			ops:       []op{status(502), write("upstream <b>"), writeString("detail"), readFrom("more"), flush, status(200)},
			wantHeld:  502,
			wantState: 502,
		},
		{
			name:      "keep HTML: HTML body goes through",
			cfg:       &keep,
			ops:       []op{header("Content-Type", "text/html; charset=utf-8"), status(503), write(""), write("<p>ours</p>")},
			wantCalls: []string{"WriteHeader 503", "Write"},
			wantBody:  "<p>ours</p>",
			wantState: 503,
		},
		{
			name:      "keep HTML: sniffed HTML goes through",
			cfg:       &keep,
			ops:       []op{status(503), writeString("<!DOCTYPE html><p>ours</p>")},
			wantCalls: []string{"WriteHeader 503", "Write"},
			wantBody:  "<!DOCTYPE html><p>ours</p>",
			wantState: 503,
		},
		{
			name:      "keep HTML: sniffed text is replaced",
			cfg:       &keep,
			ops:       []op{status(503), write("dial tcp 10.0.0.1:80: connection refused")},
			wantHeld:  503,
			wantState: 503,
		},
		{
			name:      "keep HTML: JSON is replaced",
			cfg:       &keep,
			ops:       []op{header("Content-Type", "application/json"), status(502), write(`{"error":"x"}`)},
			wantHeld:  502,
			wantState: 502,
		},
		{
			name:      "keep HTML: empty HTML body is replaced",
			cfg:       &keep,
			ops:       []op{header("Content-Type", "text/html"), status(504)},
			wantHeld:  504,
			wantState: 504,
		},
		{
			name:      "keep HTML: HTML with Content-Length 0 is replaced",
			cfg:       &keep,
			ops:       []op{header("Content-Type", "text/html"), header("Content-Length", "0"), status(504), write("")},
			wantHeld:  504,
			wantState: 504,
		},
		{
			name:      "keep HTML: HEAD with HTML type goes through",
			cfg:       &keep,
			head:      true,
			ops:       []op{header("Content-Type", "text/html"), status(502)},
			wantCalls: []string{"WriteHeader 502"},
			wantState: 502,
		},
		{
			name:      "keep HTML: HEAD without type is replaced",
			cfg:       &keep,
			head:      true,
			ops:       []op{status(502)},
			wantHeld:  502,
			wantState: 502,
		},
		{
			name:      "keep HTML: flushed held response goes through",
			cfg:       &keep,
			ops:       []op{header("Content-Type", "text/html"), status(502), flush, write("<p>x</p>")},
			wantCalls: []string{"WriteHeader 502", "Flush", "Write"},
			wantBody:  "<p>x</p>",
			wantState: 502,
		},
		{
			name:      "keep HTML: flush without type decides as for HEAD",
			cfg:       &keep,
			ops:       []op{status(503), flush, write("<html><p>x</p></html>")},
			wantHeld:  503,
			wantState: 503,
		},
		{
			name:      "keep HTML: flush of plain text set after the status",
			cfg:       &keep,
			ops:       []op{status(503), header("Content-Type", "text/plain"), flush, write("dial tcp")},
			wantHeld:  503,
			wantState: 503,
		},
		{
			name:      "keep HTML: ReadFrom sniffs the body",
			cfg:       &keep,
			ops:       []op{status(502), readFrom("<html><p>x</p></html>")},
			wantCalls: []string{"WriteHeader 502", "Write"},
			wantBody:  "<html><p>x</p></html>",
			wantState: 502,
		},
		{
			name:      "keep structured: JSON goes through",
			cfg:       &structured,
			ops:       []op{header("Content-Type", "application/problem+json"), status(503), write(`{"title":"x"}`)},
			wantCalls: []string{"WriteHeader 503", "Write"},
			wantBody:  `{"title":"x"}`,
			wantState: 503,
		},
		{
			name:      "keep structured: sniffed XML goes through",
			cfg:       &structured,
			ops:       []op{status(503), write(`<?xml version="1.0"?><problem/>`)},
			wantCalls: []string{"WriteHeader 503", "Write"},
			wantBody:  `<?xml version="1.0"?><problem/>`,
			wantState: 503,
		},
		{
			name:      "keep structured: HTML is replaced",
			cfg:       &structured,
			ops:       []op{header("Content-Type", "text/html"), status(502), write("<p>x</p>")},
			wantHeld:  502,
			wantState: 502,
		},
		{
			name:      "keep structured: sniffed HTML is replaced",
			cfg:       &structured,
			ops:       []op{status(502), write("<!DOCTYPE html><p>x</p>")},
			wantHeld:  502,
			wantState: 502,
		},
		{
			name:      "keep structured: HEAD with JSON type goes through",
			cfg:       &structured,
			head:      true,
			ops:       []op{header("Content-Type", "application/json"), status(502)},
			wantCalls: []string{"WriteHeader 502"},
			wantState: 502,
		},
		{
			name:      "ReadFrom goes to the wrapped ReadFrom",
			cfg:       &std,
			ops:       []op{readFrom("file")},
			wantCalls: []string{"ReadFrom"},
			wantBody:  "file",
			wantState: 200,
		},
		{
			name:      "flush sends 200",
			cfg:       &std,
			ops:       []op{flush, write("event")},
			wantCalls: []string{"Flush", "Write"},
			wantBody:  "event",
			wantState: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rw, fake := newFake(hasFlusher | hasHijacker | hasReaderFrom)
			var w Writer
			w.Reset(rw, tt.cfg, tt.head)
			v := w.View()
			for _, op := range tt.ops {
				op(t, v)
			}
			if diff := cmp.Diff(tt.wantCalls, fake.calls); diff != "" {
				t.Errorf("calls on the wrapped writer (-want +got):\n%s", diff)
			}
			if got := fake.body.String(); got != tt.wantBody {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
			held, ok := w.Held()
			if ok != (tt.wantHeld != 0) || held != tt.wantHeld {
				t.Errorf("Held() = %d, %v; want %d", held, ok, tt.wantHeld)
			}
			if got := w.Status(); got != tt.wantState {
				t.Errorf("Status() = %d, want %d", got, tt.wantState)
			}
			if got, want := w.Committed(), tt.wantHeld == 0; got != want {
				t.Errorf("Committed() = %v, want %v", got, want)
			}
		})
	}
}

// outer is a third-party wrapper that only offers Unwrap.
type outer struct{ http.ResponseWriter }

func (o outer) Unwrap() http.ResponseWriter { return o.ResponseWriter }

func TestSetErrorAndPassNextReachEveryWriter(t *testing.T) {
	var cfg Config
	cfg.Intercept.Add(502)
	rw, fake := newFake(0)
	var inner, out Writer
	out.Reset(rw, &cfg, false)
	inner.Reset(outer{out.View()}, &cfg, false)
	v := outer{inner.View()}

	if SetError(outer{rw}, io.EOF) {
		t.Error("SetError found a Writer where there is none")
	}
	if !SetError(v, io.EOF) {
		t.Fatal("SetError found no Writer")
	}
	if inner.Err() != io.EOF || out.Err() != io.EOF {
		t.Errorf("Err() = %v (inner), %v (outer); want io.EOF", inner.Err(), out.Err())
	}
	PassNext(v)
	v.WriteHeader(502)
	if diff := cmp.Diff([]string{"WriteHeader 502"}, fake.calls); diff != "" {
		t.Errorf("calls on the wrapped writer (-want +got):\n%s", diff)
	}
}

func TestViewAfterFinish(t *testing.T) {
	var cfg Config
	cfg.Intercept.Add(502)
	live := context.Background()
	over, cancel := context.WithCancel(live)
	cancel()
	tests := []struct {
		name      string
		before    func(v http.ResponseWriter) // before Finish
		ctx       context.Context
		wantCalls []string
		wantBody  string
	}{
		{
			name:      "live request: a late status and body go straight through",
			ctx:       live,
			wantCalls: []string{"WriteHeader 502", "Write", "Write", "ReadFrom", "Flush", "Push /a", "CloseNotify", "Hijack"},
			wantBody:  `{"message":"Bad Gateway"}late`,
		},
		{
			// The caller wrote its page in place of the held status.
			name:   "live request: nothing after a held status reaches it",
			before: func(v http.ResponseWriter) { v.WriteHeader(502); v.Write([]byte("held")) },
			ctx:    live,
		},
		{
			name: "live request: a body held until its first byte stays discarded",
			before: func(v http.ResponseWriter) {
				v.Header().Set("Content-Type", "application/json")
				v.WriteHeader(502)
			},
			ctx: live,
		},
		{
			// net/http may be finishing this response at the same moment,
			// without a lock: a late call must not touch it.
			name:      "live request after a sent status: nothing more reaches it",
			before:    func(v http.ResponseWriter) { v.WriteHeader(200); v.Write([]byte("served")) },
			ctx:       live,
			wantCalls: []string{"WriteHeader 200", "Write"},
			wantBody:  "served",
		},
		{
			name: "request over: nothing reaches it",
			ctx:  over,
		},
		{
			name:      "request over after a sent status: nothing more reaches it",
			before:    func(v http.ResponseWriter) { v.WriteHeader(200) },
			ctx:       over,
			wantCalls: []string{"WriteHeader 200"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := cfg
			cfg.KeepStructured = true
			rw, fake := newFake(hasFlusher | hasHijacker | hasReaderFrom | hasPusher | hasCloseNotifier)
			var w Writer
			w.Reset(rw, &cfg, false)
			v := w.View()
			if tt.before != nil {
				tt.before(v)
			}
			w.Finish(tt.ctx)

			v.Header().Set("Content-Type", "application/json")
			v.WriteHeader(502)
			v.Write([]byte(`{"message":"Bad Gateway"}`))
			io.WriteString(v, "late")
			v.(io.ReaderFrom).ReadFrom(strings.NewReader(""))
			v.(http.Flusher).Flush()
			v.(http.Pusher).Push("/a", nil)
			//lint:ignore SA1019 a view still forwards CloseNotify
			closed := v.(http.CloseNotifier).CloseNotify()
			_, _, hijackErr := v.(http.Hijacker).Hijack()
			deadlineErr := http.NewResponseController(v).SetWriteDeadline(time.Time{})
			SetError(v, io.EOF)
			PassNext(v)

			if diff := cmp.Diff(tt.wantCalls, fake.calls); diff != "" {
				t.Errorf("calls on the wrapped writer (-want +got):\n%s", diff)
			}
			if got := fake.body.String(); got != tt.wantBody {
				t.Errorf("body = %q, want %q", got, tt.wantBody)
			}
			if tt.ctx.Err() == nil {
				return
			}
			if got := rw.Header().Get("Content-Type"); got != "" {
				t.Errorf("a late Header().Set reached the response: Content-Type %q", got)
			}
			if !errors.Is(hijackErr, context.Canceled) {
				t.Errorf("Hijack error = %v, want context.Canceled", hijackErr)
			}
			if !errors.Is(deadlineErr, http.ErrNotSupported) {
				t.Errorf("SetWriteDeadline error = %v, want http.ErrNotSupported", deadlineErr)
			}
			if !<-closed {
				t.Error("CloseNotify did not report the request over")
			}
		})
	}
}

func TestRemoveBodyHeaders(t *testing.T) {
	h := http.Header{
		"Content-Type":     {"text/plain"},
		"Content-Length":   {"12"},
		"Etag":             {`"x"`},
		"Trailer:Checksum": {"abc"},
		"Trailer":          {"Checksum"},
		"Retry-After":      {"30"},
		"Set-Cookie":       {"a=b"},
		"X-Request-Id":     {"42"},
	}
	RemoveBodyHeaders(h)
	want := http.Header{
		"Retry-After":  {"30"},
		"Set-Cookie":   {"a=b"},
		"X-Request-Id": {"42"},
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
}

// discard is a minimal ResponseWriter with Flusher and Hijacker, like the
// one net/http hands out, that allocates nothing.
type discard struct{ h http.Header }

func (d discard) Header() http.Header                          { return d.h }
func (d discard) Write(p []byte) (int, error)                  { return len(p), nil }
func (d discard) WriteHeader(int)                              {}
func (d discard) Flush()                                       {}
func (d discard) Hijack() (net.Conn, *bufio.ReadWriter, error) { return nil, nil, nil }

func BenchmarkWriter(b *testing.B) {
	var cfg Config
	cfg.Intercept.Add(502)
	rw := &discard{h: http.Header{}}
	p := []byte("hello")
	var w Writer
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		w.Reset(rw, &cfg, false)
		v := w.View()
		v.WriteHeader(200)
		v.Write(p)
		w.Finish(ctx)
	}
}

func TestResponseControllerFlushGoesThroughWriter(t *testing.T) {
	var cfg Config
	cfg.Intercept.Add(502)
	for _, tt := range []struct {
		name      string
		status    int
		wantCalls []string
	}{
		{"held status stays held", 502, nil},
		{"sent status is flushed", 200, []string{"WriteHeader 200", "Flush"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rw, fake := newFake(hasFlusher)
			var w Writer
			w.Reset(outer{rw}, &cfg, false) // outer hides Flush behind Unwrap
			v := w.View()
			if _, ok := v.(http.Flusher); ok {
				t.Fatal("the view has Flush, which the writer it wraps has not")
			}
			v.WriteHeader(tt.status)
			if err := http.NewResponseController(v).Flush(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantCalls, fake.calls); diff != "" {
				t.Errorf("calls on the wrapped writer (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("nothing can flush", func(t *testing.T) {
		rw, _ := newFake(0)
		var w Writer
		w.Reset(rw, &cfg, false)
		if err := http.NewResponseController(w.View()).Flush(); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("Flush = %v, want http.ErrNotSupported", err)
		}
	})
}

func TestAudienceOf(t *testing.T) {
	for ct, want := range map[string]Audience{
		"":                                  ForNoOne,
		"text/plain; charset=utf-8":         ForNoOne,
		"application/octet-stream":          ForNoOne,
		"text/html; charset=utf-8":          ForPeople,
		"TEXT/HTML":                         ForPeople,
		"application/xhtml+xml":             ForPeople,
		"application/json":                  ForPrograms,
		"application/problem+json":          ForPrograms,
		"application/xml":                   ForPrograms,
		"text/xml; charset=utf-8":           ForPrograms,
		"application/problem+xml":           ForPrograms,
		"text/html; charset=\"unterminated": ForNoOne,
	} {
		if got := AudienceOf(ct); got != want {
			t.Errorf("AudienceOf(%q) = %d, want %d", ct, got, want)
		}
	}
}
