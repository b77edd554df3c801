package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// afterKey is the context key under which afterHandler leaves the function
// that a handler's goroutine registers to run once Handler has returned.
type afterKey struct{}

// afterHandler is an ordinary middleware outside Handler, such as an access
// log or a metrics recorder: it still works on the request after Handler
// returned, before net/http finishes the response. It runs the function
// the handler registered, if any, at that moment.
func afterHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var after atomic.Pointer[func()]
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), afterKey{}, &after)))
		if f := after.Load(); f != nil {
			(*f)()
		}
	})
}

// TestHandlerWriterAfterReturnOuterMiddleware writes through Handler's
// ResponseWriter after Handler returned while a middleware outside it is
// still at work, that is, while the request's context is live, on a
// response the handler had written: the write must reach nothing.
func TestHandlerWriterAfterReturnOuterMiddleware(t *testing.T) {
	for _, p := range protos {
		t.Run(string(p), func(t *testing.T) {
			lateErr := make(chan error, 1)
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "served")
				f := func() {
					w.Header().Set("X-Late", "1")
					_, err := io.WriteString(w, "LATE")
					if ferr := http.NewResponseController(w).Flush(); ferr == nil {
						err = errors.Join(err, fmt.Errorf("late Flush succeeded"))
					}
					lateErr <- err
				}
				r.Context().Value(afterKey{}).(*atomic.Pointer[func()]).Store(&f)
			})
			url, c := serve(t, p, afterHandler(Handler(Options{})(app)))
			resp, body := do(t, c, http.MethodGet, url)
			if resp.StatusCode != http.StatusOK || body != "served" || resp.Header.Get("X-Late") != "" {
				t.Errorf("got %d %q X-Late %q, want 200 %q and no X-Late", resp.StatusCode, body, resp.Header.Get("X-Late"), "served")
			}
			if err := <-lateErr; err == nil {
				t.Error("a late write on a written response succeeded")
			}
		})
	}
}

// TestHandlerWriterAfterReturnOuterMiddlewareStress has goroutines write
// through Handler's ResponseWriter from the moment Handler returned, while
// a middleware outside it still works on the request, over many concurrent
// connections: net/http finishes each response without a lock, so a late
// write that reached it could land in a recycled buffer, another
// response, or crash the server.
func TestHandlerWriterAfterReturnOuterMiddlewareStress(t *testing.T) {
	const (
		requests = 2000
		conns    = 32
	)
	var goroutines sync.WaitGroup
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		io.WriteString(w, "req-"+id)
		var returned atomic.Bool
		f := func() {
			returned.Store(true)
			time.Sleep(50 * time.Microsecond) // the access log's own work
		}
		r.Context().Value(afterKey{}).(*atomic.Pointer[func()]).Store(&f)
		goroutines.Go(func() {
			for !returned.Load() {
				time.Sleep(10 * time.Microsecond)
			}
			for range 200 {
				if _, err := io.WriteString(w, "LATE-"+id); err != nil {
					return
				}
			}
		})
	})
	url, c := serve(t, http1, afterHandler(Handler(Options{})(app)))
	tr := c.Transport.(*http.Transport)
	tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost = conns, conns

	check := func(i int) error {
		id := strconv.Itoa(i)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/?id="+id, nil)
		resp, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("request %s: %v", id, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("request %s: %v", id, err)
		}
		if body := string(b); body != "req-"+id {
			return fmt.Errorf("request %s: body %.80q, want %q", id, strings.ToValidUTF8(body, "?"), "req-"+id)
		}
		return nil
	}
	checkConcurrently(t, requests, conns, check)
	c.CloseIdleConnections()
	goroutines.Wait()
}
