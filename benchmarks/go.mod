module github.com/gatehouse-go/gatehouse/benchmarks

go 1.26.0

require (
	github.com/felixge/httpsnoop v1.1.0
	github.com/gatehouse-go/gatehouse v0.0.0
	github.com/go-chi/chi/v5 v5.5.0
	github.com/gorilla/handlers v1.5.2
	github.com/gorilla/mux v1.8.1
	github.com/justinas/alice v1.2.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/dunglas/httpsfv v1.1.2 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/gatehouse-go/gatehouse => ../
