// Package middleware puts Gatehouse's error pages in front of an
// application or an upstream: [Handler] recovers panics and replaces error
// responses; [Transport] classifies upstream failures, retries safely and
// breaks circuits; [NewReverseProxy] and [ErrorHandler] wire both into an
// [httputil.ReverseProxy]. One [Options] configures them all; its zero
// value gives the embedded pages, shows visitors nothing internal and logs
// nothing.
//
// The README tells the rest with examples: the two commands
// (https://github.com/gatehouse-go/gatehouse#the-two-commands), routers
// (#using-gatehouse-with-your-router), metrics and traces
// (#metrics-and-traces) and what visitors see (#what-visitors-see).
//
// # Handler
//
// Handler's ResponseWriter keeps the optional interfaces of the one it
// wraps (Flusher, Hijacker, ReaderFrom, Pusher) and unwraps for
// [http.ResponseController]; on the success path it buffers nothing and
// allocates once.
//
// # Transport
//
// A failure from RoundTrip or a body's Read is a [*gatewayerr.Error].
// [RetryPolicy] retries only what is safe to send again; [BreakerPolicy]
// keeps a breaker per upstream; [Transport.Upstreams] balances among
// replicas, with an optional [HealthCheck].
//
// # Logs
//
// A fact has the same key in every record: kind (the RFC 9209 error type),
// status, upstream, method, path, request_id (on every failure record),
// error, stack, attempts, duration, phase and received_status.
package middleware
