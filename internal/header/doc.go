// Package header parses and matches the content-negotiation request headers
// that error pages depend on: Accept (RFC 9110, Section 12.5.1) and
// Accept-Language (RFC 9110, Section 12.5.4, with RFC 4647 language ranges).
//
// # Bounded work
//
// The parsers look at no more than [MaxLength] bytes of a header value and
// keep no more than [MaxEntries] of its elements, so a huge or hostile
// header costs a bounded amount of work. Malformed elements are skipped,
// not reported: negotiation falls back to the server's preference.
//
// # Allocation
//
// Parse functions append to a caller's slice, so a caller that passes a
// stack array of [MaxEntries] elements parses without allocating.
package header
