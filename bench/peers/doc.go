// Package peers runs the bench package's workloads on the libraries a Go user would otherwise
// pick — rill, conc, pond and errgroup — next to Stagecoach's own designs, on the same stage
// funcs, each used the way its documentation recommends, and every result checked: W1 to W3 and
// Stages ([Impls]), W4 at a given concurrency ([ConcImpls]), request/response ([Services]) and
// open-loop latency under Poisson arrivals ([OpenLoopServices], BenchmarkOpenLoop). Stagecoach's
// designs include hand, the seed blog's pipeline written by hand: the reference for "channel per
// stage" that pipe is measured against.
// It is a nested module so that the root module keeps no dependency outside the standard
// library.
//
// For W4, rill gets its concurrency per rill.Map, like pipe (so up to n items wait in each
// stage), and conc, pond and errgroup as their limit of tasks at once, a task running every stage
// of one item. For request/response, every peer serves all clients from one shared instance with
// GOMAXPROCS workers: rill as a shared pipeline whose requests carry their connection's reply
// channel (the promise design), conc and errgroup as a shared pool whose tasks send the result on
// that channel, pond as a shared result pool whose task's future the client waits on.
//
// stagedpipe (github.com/gostdlib/concurrency) is not in the suite: its pinned version cannot be
// downloaded through the Go module proxy. docs/benchmarks.md quotes a separate measurement of it,
// labelled as such.
//
// The report command (go run ./cmd/report) runs the suites and writes docs/benchmarks.md with
// tables and SVG charts; with -from it reads any go test -bench output, including that of
// bench.Compare on a user's own stages.
package peers
