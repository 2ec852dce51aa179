// Package bench holds the workloads every design of the module is measured on, and each design's
// implementation of them, so that `go test -bench . ./bench` compares them side by side (and the
// nested module bench/peers adds the peer libraries on the very same workloads).
//
// # Workloads
//
//   - W1: 1M items through 4 trivial stages: the per-item overhead of a design.
//   - W2: 100k items through 4 stages of about 2 us of fixed CPU work: how well it uses the cores.
//   - W3: 64 streams of 10k items, 4 trivial stages: many streams at once, each checking that it
//     got exactly its own results.
//   - Stages: 100k items through 1, 2, 4 and 8 trivial stages: what a stage costs.
//   - Fairness (group only): the latency of one item behind another group's backlog.
//
// Every stage applies its own affine step to the item's value, so the final value proves that
// every stage ran once and in order. A [Sink] checks each stream's results as they come: every
// item back exactly once, on its own stream, with the right value. [Measure] runs an
// implementation once and checks it before timing it, and checks the timed runs too, then reports
// ns/item, B/item and allocs/item. With go test -short, the workloads are small, for CI.
//
// # Implementations
//
// [Direct] calls the stage funcs on GOMAXPROCS goroutines, the limit; [Pipe] is a channel per
// stage; [Pool] and [Group] run an fsm.Machine of the stages ([Machine], [Work]).
package bench
