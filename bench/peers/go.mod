module github.com/stagecoach-go/stagecoach/bench/peers

go 1.26.4

require (
	github.com/alitto/pond/v2 v2.7.1
	github.com/destel/rill v0.8.1
	github.com/sourcegraph/conc v0.3.0
	github.com/stagecoach-go/stagecoach v0.0.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.24.0
	pgregory.net/rapid v1.3.0
)

require (
	go.uber.org/atomic v1.7.0 // indirect
	go.uber.org/multierr v1.9.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace github.com/stagecoach-go/stagecoach => ../..
