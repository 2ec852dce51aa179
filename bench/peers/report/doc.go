// Package report turns `go test -bench` output into docs/benchmarks.md: the output of the bench
// suites (W1 to W4, Stages, request/response, open loop, memory, fairness), and that of
// bench.Compare on anyone's own stages, whose benchmarks get a table and a bar chart each. It
// parses the metrics, takes medians and spreads over the -count runs, and renders markdown tables
// and SVG charts drawn here, with no chart dependency.
package report
