// Package middleware puts Gatehouse's error pages in front of an
// application or an upstream: a [Handler] that recovers panics and
// replaces error responses, a [Transport] that classifies, retries and
// breaks circuits, and a reverse proxy ([NewReverseProxy], [ErrorHandler])
// with all of it wired in.
//
// Everything is configured by one [Options], whose zero value gives the
// embedded default pages, shows nothing internal to visitors and logs
// nothing.
//
// # Handler
//
// Handler has the standard middleware shape, func(http.Handler)
// http.Handler, so it wraps an http.ServeMux and fits chi, gorilla/mux and
// alice chains alike:
//
//	mux := http.NewServeMux()
//	mux.Handle("/", app)
//	http.ListenAndServe(":8080", middleware.Handler(middleware.Options{})(mux))
//
// It does two things:
//
//   - It recovers panics. Before the response's status was sent, a panic
//     becomes the branded 500 page; after, the response is aborted with
//     http.ErrAbortHandler, as a truncated response is the only honest
//     answer once a 200 is on the wire. Either way the panic and its stack
//     are logged through [Options.Logger] and reported to [Options.OnError]
//     as a [*PanicError].
//   - It intercepts error responses, like nginx's proxy_intercept_errors:
//     when the application writes a status listed in [Options.Intercept]
//     (502, 503 and 504 by default) with a body that [Options.Replace]
//     does not keep (by default, one that is empty or plain text rather
//     than an HTML page or JSON), the body is discarded and the branded
//     page is written instead. [SetError]
//     tells Handler the error behind such a status, so the page says what
//     actually failed.
//
// # The wrapped ResponseWriter
//
// The ResponseWriter that Handler passes on has exactly the optional
// interfaces of the one it received (http.Flusher, http.Hijacker,
// io.ReaderFrom, http.Pusher, http.CloseNotifier) and an Unwrap method for
// http.ResponseController. Server-Sent Events flush event by event,
// WebSockets upgrade, http.ServeFile still uses sendfile, and
// ResponseController's deadlines and EnableFullDuplex work, over HTTP/1.1
// and HTTP/2 alike.
//
// On the success path Handler allocates nothing and buffers nothing: the
// wrapper comes from a pool and the decision to intercept is taken when the
// status is written. The wrapper goes back to the pool when the next
// handler returns, so, as net/http already requires, a handler must not use
// its ResponseWriter after returning, not even from a goroutine it started.
package middleware
