package otel_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	gatehouseotel "github.com/gatehouse-go/gatehouse/contrib/otel"
	"github.com/gatehouse-go/gatehouse/middleware"
)

func Example() {
	// An SDK that keeps the spans in memory; yours exports them.
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())

	// A gateway in front of a port where nothing listens, inside
	// otelhttp's handler, its page quoting the trace ID.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	ln.Close()
	proxy := middleware.NewReverseProxy(dead, gatehouseotel.Options(middleware.Options{}))
	handler := otelhttp.NewHandler(gatehouseotel.RequestIDFromTrace(nil)(proxy), "gateway", otelhttp.WithTracerProvider(tp))
	gateway := httptest.NewServer(handler)
	defer gateway.Close()

	resp, err := http.Get(gateway.URL + "/orders")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()

	span := spans.Ended()[0]
	fmt.Println("status:", resp.StatusCode)
	fmt.Println("page reference is the trace ID:", resp.Header.Get("X-Request-ID") == span.SpanContext().TraceID().String())
	for _, kv := range span.Attributes() {
		if kv.Key == gatehouseotel.ErrorTypeKey {
			fmt.Println("span error.type:", kv.Value.String())
		}
	}
	for _, e := range span.Events() {
		for _, kv := range e.Attributes {
			if kv.Key == gatehouseotel.ErrorTypeKey {
				fmt.Println(e.Name+" error.type:", kv.Value.String())
			}
		}
	}
	// Output:
	// status: 502
	// page reference is the trace ID: true
	// span error.type: connection_refused
	// gatehouse.attempt error.type: connection_refused
}
