// Package usertest uses gatewayerr/faulttest as a user of the library does,
// from a module of its own: its test drives every fault of the catalog
// through middleware.NewReverseProxy and checks that the gateway's
// Proxy-Status names the fault's kind. It has no code outside its tests.
//
// Run it from this directory, under the race detector and more than once:
//
//	go test -race -count=2 ./...
package usertest
