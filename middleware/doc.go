// Package middleware puts Gatehouse's error pages in front of an
// application or an upstream: [Handler] recovers panics and replaces error
// responses; [Transport] classifies upstream failures, retries safely and
// breaks circuits; [NewReverseProxy] and [ErrorHandler] wire both into an
// [httputil.ReverseProxy]. One [Options] configures them all; its zero
// value gives the embedded pages, shows visitors nothing internal and logs
// nothing. The README shows them at work:
// https://github.com/gatehouse-go/gatehouse#the-two-commands.
//
// # Logs
//
// A fact has the same key in every record: kind (the RFC 9209 error type),
// status, upstream, method, path, request_id (on every failure record),
// error, stack, attempts, duration, phase and received_status.
package middleware
