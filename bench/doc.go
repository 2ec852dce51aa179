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
//   - OpenLoop: requests arrive on a fixed Poisson schedule ([Schedule]) over [OpenLoopConns]
//     connections at 25, 50, 75 and 90% of the capacity the design showed just before
//     ([Capacity]: every request due at once); latency runs from when a request was due to its
//     result, so time spent queued behind a slow request counts (no coordinated omission), and a
//     load the design did not keep up with reports the rate it achieved instead of latencies
//     ([OpenLoop], [MeasureOpenLoop], [OpenLoopServices], [GoroutineService]).
//   - GroupMemory (group only): the heap an open idle group holds, and the time to open and close
//     one.
//
// Every stage applies its own affine step to the item's value, so the final value proves that
// every stage ran once and in order. A [Sink] checks each stream's results as they come: every
// item back exactly once, on its own stream, with the right value. [Measure] runs an
// implementation once and checks it before timing it, and checks the timed runs too, then reports
// ns/item, B/item and allocs/item; [MeasureItems] is the same measurement for a package's own
// benchmarks of other work (pool's and pipe's use it). With go test -short, the workloads are
// small, for CI.
//
// # Implementations
//
// [Direct] calls the stage funcs on GOMAXPROCS goroutines, the limit; [Hand] is the seed blog's
// pipeline written by hand (a goroutine a stage, channels buffered to 64, a select on the context
// when sending, a plain range when receiving, the first error cancelling the rest), the reference
// for "channel per stage"; [Pipe] is the same pipeline built with package pipe; [Pool] and
// [Group] run an fsm.Machine of the stages ([Machine], [Work]). [PoolSlice] is pool over input
// already in memory, and [GroupBatch] is [Group] whose submitters hand their items over in runs
// of 64 (group's SubmitAll), as a service that receives its items in batches does.
//
// At a given concurrency n (W4), [DirectN] runs n goroutines over contiguous ranges of the items;
// [HandN] runs n goroutines a stage; [PipeN] gives every stage pipe.Workers(n), so up to n items wait in each stage (4n in all);
// [PoolN] runs pool.Workers(n); [GroupN] runs a router of group.Workers(n) and opens its one group
// with a window of 2n, since the default window of 256 would bound the items in flight.
//
// For request/response, [DirectService] runs the work func on the client's goroutine;
// [HandService] is the promise design of the seed documents written by hand, and
// [PromiseService] the same built with package pipe, one
// pipeline for the whole service whose requests carry their connection's reply channel;
// [GroupService] is one router for the service and one group a connection, opened when the
// client connects, from which each call pulls its one result.
//
// # Your own stages
//
// [Compare] runs the same designs on the caller's own item type and stages, one sub-benchmark a
// design with stable names (direct, hand, pipe, pool, pool-slice, group; see [CompareDesigns]),
// every result of every run checked against direct calls of the stages; [CheckDesigns] runs the
// same check once, for a test. The report command of bench/peers turns the output into tables and
// charts:
//
//	func BenchmarkOrders(b *testing.B) {
//		bench.Compare(b, orders, []func(context.Context, Order) (Order, error){price, discount, tax})
//	}
package bench
