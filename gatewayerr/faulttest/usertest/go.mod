module github.com/gatehouse-go/gatehouse/gatewayerr/faulttest/usertest

go 1.26.0

replace github.com/gatehouse-go/gatehouse => ../../..

require (
	github.com/gatehouse-go/gatehouse v0.0.0-00010101000000-000000000000
	go.uber.org/goleak v1.3.0
)

require (
	github.com/dunglas/httpsfv v1.1.2 // indirect
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)
