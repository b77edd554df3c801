// Package routertest tests Gatehouse's middleware inside real routers: chi,
// echo and gin, each with its own recoverer and request-ID middleware in
// the chain. It is a module of its own, so that the routers are
// dependencies of these tests only, never of the library; it has no API.
//
// The setups the tests use are the ones the README's "Using Gatehouse with
// your router" section shows (setups_test.go; TestReadmeRouterSection
// keeps the two in sync), and the behaviour they check is the one that
// section documents.
package routertest
