// Package report turns `go test -bench` output of the bench suites into docs/benchmarks.md: it
// parses the per-item metrics, takes medians and spreads over the -count runs, and renders
// markdown tables and SVG charts drawn here, with no chart dependency.
package report
