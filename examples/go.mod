module github.com/gatehouse-go/gatehouse/examples

go 1.26.0

require (
	github.com/felixge/httpsnoop v1.1.0
	github.com/gatehouse-go/gatehouse v0.0.0
	github.com/gatehouse-go/gatehouse/contrib/prometheus v0.0.0
	github.com/prometheus/client_golang v1.25.0
	go.uber.org/goleak v1.3.0
	golang.org/x/net v0.62.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dunglas/httpsfv v1.1.2 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace (
	github.com/gatehouse-go/gatehouse => ../
	github.com/gatehouse-go/gatehouse/contrib/prometheus => ../contrib/prometheus
)
