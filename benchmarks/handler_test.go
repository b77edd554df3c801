package benchmarks

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/felixge/httpsnoop"
	chimw "github.com/go-chi/chi/v5/middleware"
	"github.com/gorilla/handlers"

	"github.com/gatehouse-go/gatehouse/middleware"
)

// discardWriter has the optional interfaces of net/http's HTTP/1 writer
// (Flusher, Hijacker, ReaderFrom, CloseNotifier) and allocates nothing, so
// that the benchmarks measure only the middleware.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Flush()                      {}
func (d *discardWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return nil, nil, errors.New("not a connection")
}
func (d *discardWriter) ReadFrom(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }
func (d *discardWriter) CloseNotify() <-chan bool            { return nil }

// chiRecoverer is chi's usual pair: Recoverer, and a WrapResponseWriter to
// see the status, as chi's own logger does.
func chiRecoverer(next http.Handler) http.Handler {
	return chimw.Recoverer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := chimw.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		_ = ww.Status()
	}))
}

// snoopStatus is the smallest httpsnoop middleware: recover, and see the
// status.
func snoopStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := 0
		ww := httpsnoop.Wrap(w, httpsnoop.Hooks{
			WriteHeader: func(f httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
				return func(code int) {
					if status == 0 {
						status = code
					}
					f(code)
				}
			},
		})
		defer func() {
			if v := recover(); v != nil {
				if status == 0 {
					http.Error(w, "internal error", http.StatusInternalServerError)
				}
			}
		}()
		next.ServeHTTP(ww, r)
	})
}

// snoopIntercept is what Gatehouse's Handler would be on httpsnoop: hooks on
// every method whose behaviour depends on an intercepted status.
func snoopIntercept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, held := 0, false
		ww := httpsnoop.Wrap(w, httpsnoop.Hooks{
			WriteHeader: func(f httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
				return func(code int) {
					if status != 0 {
						return
					}
					status = code
					if held = code == http.StatusBadGateway; !held {
						f(code)
					}
				}
			},
			Write: func(f httpsnoop.WriteFunc) httpsnoop.WriteFunc {
				return func(p []byte) (int, error) {
					if held {
						return len(p), nil
					}
					status = http.StatusOK
					return f(p)
				}
			},
			Flush: func(f httpsnoop.FlushFunc) httpsnoop.FlushFunc {
				return func() {
					if !held {
						f()
					}
				}
			},
			ReadFrom: func(f httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
				return func(src io.Reader) (int64, error) {
					if held {
						return io.Copy(io.Discard, src)
					}
					return f(src)
				}
			},
		})
		defer func() {
			if v := recover(); v != nil && status == 0 {
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(ww, r)
	})
}

func BenchmarkHandler(b *testing.B) {
	hello := []byte("hello, world")
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write(hello)
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, bm := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", app},
		{"gatehouse", middleware.Handler(middleware.Options{})(app)},
		{"chi", chiRecoverer(app)},
		{"gorilla", handlers.RecoveryHandler()(app)},
		{"httpsnoop", snoopStatus(app)},
		{"httpsnoop-intercept", snoopIntercept(app)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				bm.h.ServeHTTP(w, req)
			}
		})
	}
}
