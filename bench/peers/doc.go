// Package peers runs the bench package's workloads on the libraries a Go user would otherwise
// pick — rill, conc, pond and errgroup — next to Stagecoach's own designs, on the same stage
// funcs, each used the way its documentation recommends, and every result checked. It is a
// nested module so that the root module keeps no dependency outside the standard library.
//
// stagedpipe (github.com/gostdlib/concurrency) is not in the suite: the module proxy this
// project's machines use answers 403 for it (see docs/benchmarks.md, which quotes its figures as
// measured for the design document instead).
//
// The report command (go run ./cmd/report) runs the suites and writes docs/benchmarks.md with
// tables and SVG charts.
package peers
