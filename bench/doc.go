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
//   - W4: 20k items through 4 stages that each wait about 100 us without using the CPU, as a call
//     to a database does, at concurrency 16, 256 and 1024 ([ConcImpls], [MeasureConc]). A stage
//     waits on a [Delay], a simulated device whose clock sleeps on a thread of its own, because a
//     100 us time.Sleep lasts about 1 ms on Linux when the process is otherwise idle. x-ideal is
//     the time over items x stages x wait / concurrency, with the wait measured once beforehand;
//     wait-ns is the wait the stages saw during the run, which grows when the machine is too busy
//     waking waiters (at 1024 on 2 cores, waking them is most of the work, even for direct calls).
//   - RequestResponse: C clients (1, 64, 1024) share one server; each submits one item and waits
//     for its result before the next, as an HTTP handler does, through W1's 4 trivial stages
//     ([Services], [RoundTrips], [MeasureRoundTrips]): p50 and p99 of a round trip, and round
//     trips a second.
//   - GroupMemory (group only): the heap an open idle group holds, and the time to open and close
//     one.
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
//
// At a given concurrency n (W4), [DirectN] runs n goroutines over contiguous ranges of the items;
// [PipeN] gives every stage pipe.Workers(n), so up to n items wait in each stage (4n in all);
// [PoolN] runs pool.Workers(n); [GroupN] runs a router of group.Workers(n) and opens its one group
// with a window of 2n, since the default window of 256 would bound the items in flight.
//
// For request/response, [DirectService] runs the work func on the client's goroutine;
// [PromiseService] is the promise design of the seed documents built with package pipe, one
// pipeline for the whole service whose requests carry their connection's reply channel;
// [GroupService] is one router for the service and one group a connection, opened when the
// client connects, from which each call pulls its one result.
package bench
