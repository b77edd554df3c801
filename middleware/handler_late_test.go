package middleware

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// viewKey is the context key under which keepView finds where to store the
// ResponseWriter Handler hands to the next handler.
type viewKey struct{}

// keepView stores the ResponseWriter it gets where the request's context
// says, as a router that wraps net/http middleware does (echo.WrapMiddleware
// keeps it as the response its error handler writes to).
func keepView(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := r.Context().Value(viewKey{}).(*http.ResponseWriter); ok {
			*p = w
		}
		next.ServeHTTP(w, r)
	})
}

// lateRouter serves h, then writes through the ResponseWriter h handed on
// when h wrote nothing, as a router's error handler does after the wrapped
// middleware returned.
func lateRouter(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var view http.ResponseWriter
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewKey{}, &view)))
		if r.Header.Get("Late") == "" {
			return
		}
		view.Header().Set("Content-Type", "application/json")
		view.Header().Set("X-Router", r.Header.Get("Late"))
		view.WriteHeader(http.StatusNotFound)
		io.WriteString(view, `{"late":"`+r.Header.Get("Late")+`"}`)
		http.NewResponseController(view).Flush()
	})
}

func TestHandlerWriterAfterReturn(t *testing.T) {
	for _, p := range protos {
		t.Run(string(p), func(t *testing.T) {
			late := make(chan error, 1)
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/router":
					// writes nothing: the router answers after Handler returned
				case "/goroutine":
					w.Header().Set("Content-Type", "text/plain")
					io.WriteString(w, "served")
					go func() {
						<-r.Context().Done()
						w.Header().Set("X-Late", "1")
						w.WriteHeader(http.StatusBadGateway)
						_, err := io.WriteString(w, "LATE")
						if _, _, herr := http.NewResponseController(w).Hijack(); herr == nil {
							err = fmt.Errorf("late Hijack succeeded")
						}
						late <- err
					}()
				}
			})
			url, c := serve(t, p, lateRouter(Handler(Options{})(keepView(app))))

			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/router", nil)
			req.Header.Set("Late", "abc")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound || string(body) != `{"late":"abc"}` || resp.Header.Get("X-Router") != "abc" {
				t.Errorf("router's late answer: %d %q X-Router %q, want 404 %q X-Router abc",
					resp.StatusCode, body, resp.Header.Get("X-Router"), `{"late":"abc"}`)
			}

			resp, body2 := do(t, c, http.MethodGet, url+"/goroutine")
			if resp.StatusCode != http.StatusOK || body2 != "served" || resp.Header.Get("X-Late") != "" {
				t.Errorf("got %d %q X-Late %q, want 200 %q and no X-Late", resp.StatusCode, body2, resp.Header.Get("X-Late"), "served")
			}
			select {
			case err := <-late:
				if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
					t.Errorf("a write after the request was over returned %v, want context.Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the late goroutine did not finish")
			}
		})
	}
}

// TestHandlerWriterAfterReturnStress serves many concurrent requests over
// real connections, whose handlers leave goroutines that keep writing
// through the ResponseWriter after the request is over, while a router
// writes others' responses after Handler returned. No late write may reach
// any response but its own request's, and none may crash the server.
func TestHandlerWriterAfterReturnStress(t *testing.T) {
	const (
		requests = 2000
		conns    = 32
	)
	for _, p := range []proto{http1, h2TLS} {
		t.Run(string(p), func(t *testing.T) {
			var (
				goroutines sync.WaitGroup
				lateCalls  atomic.Int64
			)
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id := r.URL.Query().Get("id")
				n, _ := strconv.Atoi(id)
				switch n % 4 {
				case 0: // the router answers after Handler returned
					return
				case 1:
					w.Header().Set("X-Id", id)
					io.WriteString(w, "req-"+id)
				case 2:
					w.WriteHeader(http.StatusBadGateway) // replaced by the page
					io.WriteString(w, "upstream-"+id)
				case 3:
					w.Header().Set("X-Id", id)
					w.(http.Flusher).Flush()
					io.WriteString(w, "req-"+id)
				}
				// Outlive the request and write while others are served.
				goroutines.Add(1)
				go func() {
					defer goroutines.Done()
					<-r.Context().Done()
					time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
					for range 3 {
						w.Header().Set("X-Late", id)
						w.WriteHeader(http.StatusServiceUnavailable)
						io.WriteString(w, "LATE-"+id)
						w.Write([]byte("LATE-" + id))
						if rf, ok := w.(io.ReaderFrom); ok {
							rf.ReadFrom(strings.NewReader("LATE-" + id))
						}
						w.(http.Flusher).Flush()
						http.NewResponseController(w).SetWriteDeadline(time.Now())
						SetError(w, io.EOF)
						lateCalls.Add(1)
					}
				}()
			})
			url, c := serve(t, p, lateRouter(Handler(Options{})(keepView(app))))
			if tr, ok := c.Transport.(*http.Transport); ok {
				tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost = conns, conns
			}

			check := func(i int) error {
				id := strconv.Itoa(i)
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/?id="+id, nil)
				if i%4 == 0 {
					req.Header.Set("Late", id)
				}
				resp, err := c.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				if err != nil {
					return fmt.Errorf("request %s: %v", id, err)
				}
				body := string(b)
				if strings.Contains(body, "LATE-") || resp.Header.Get("X-Late") != "" {
					return fmt.Errorf("request %s got a late write: X-Late %q, body %.80q",
						id, resp.Header.Get("X-Late"), body)
				}
				var wantStatus int
				var wantBody string
				switch i % 4 {
				case 0:
					wantStatus, wantBody = http.StatusNotFound, `{"late":"`+id+`"}`
				case 1, 3:
					wantStatus, wantBody = http.StatusOK, "req-"+id
				case 2:
					if resp.StatusCode != http.StatusBadGateway || strings.Contains(body, "upstream-") {
						return fmt.Errorf("request %s: %d %.80q, want the 502 page", id, resp.StatusCode, body)
					}
					return nil
				}
				if resp.StatusCode != wantStatus || body != wantBody {
					return fmt.Errorf("request %s: %d %q, want %d %q", id, resp.StatusCode, body, wantStatus, wantBody)
				}
				if got := resp.Header.Get("X-Id"); i%4 != 0 && got != id {
					return fmt.Errorf("request %s: X-Id %q", id, got)
				}
				return nil
			}
			checkConcurrently(t, requests, conns, check)
			c.CloseIdleConnections()
			goroutines.Wait()
			if got, want := lateCalls.Load(), int64(3*requests*3/4); got != want {
				t.Errorf("%d rounds of late calls returned, want %d", got, want)
			}
		})
	}
}

// checkConcurrently runs check for requests 0 to requests-1, at most conns
// at a time, and reports the first ten errors and how many failed.
func checkConcurrently(t *testing.T, requests, conns int, check func(i int) error) {
	t.Helper()
	var (
		clients sync.WaitGroup
		errs    = make(chan error, requests)
		slots   = make(chan struct{}, conns)
	)
	for i := range requests {
		slots <- struct{}{}
		clients.Go(func() {
			defer func() { <-slots }()
			errs <- check(i)
		})
	}
	clients.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil && failed < 10 {
			t.Error(err)
		}
		if err != nil {
			failed++
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d requests failed", failed, requests)
	}
}
