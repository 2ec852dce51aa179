// Package pool runs a work func over a stream of items on a fixed set of workers, each of which
// carries one item at a time through the whole func: the fused "state machine per worker"
// design. With an fsm.Machine as the work func (pass its Do method), an item goes through every
// stage of the machine on one goroutine, so a stage costs a function call, not a channel hop.
//
//	for order, err := range pool.Run(ctx, orders, machine.Do, pool.Workers(8)) {
//		...
//	}
//
// # Entry points
//
// [Run] takes an iter.Seq and yields (result, error) pairs as they are ready; [Map] is Run for a
// work func that changes the item's type; [RunSeq2] is Run for a source that can fail (a
// directory walk, a database cursor), an iter.Seq2 of items and errors, whose errors become
// results in their place (see Errors); [RunChan] reads a channel and sends [Result]s on one.
// [Slice] is for input already in memory: it runs the work func over a slice and returns the
// results in a slice, in input order; workers claim runs of indexes with one atomic add and write
// results in place, with no hand-over at all.
//
// The MD5-of-a-tree program of the Go blog's pipelines article is a RunSeq2 over a directory
// walk, which fails on a directory it cannot read (see ExampleRunSeq2_failFast):
//
//	for f, err := range pool.RunSeq2(ctx, walk(fsys), summer(fsys), pool.FailFast()) {
//		if err != nil {
//			return nil, err // the walk's error or a read's, whichever came first
//		}
//		sums[f.path] = f.sum
//	}
//
// Every entry point panics at the call, naming itself and the argument, when given a nil
// context, a nil source or a nil work func: Run, Map and RunSeq2 panic when they are called,
// not when their results are first ranged over.
//
// # Results
//
// Every item read from the source yields exactly one result: the work func's value, or an error
// with the item as it came from the source ([Map], whose results are of another type, gives the
// zero value and an *[ItemError] that carries the item). Results come in completion order by
// default, which is fastest; with [Ordered] they come in the order the items came from the
// source, and at most the reorder window ([Window]) of items are claimed by workers and not yet
// delivered, so at most that many finished results are held back while an earlier item is still
// running. Each range over the sequence [Run] returns is one run: it reads the source from the
// start.
//
// # Errors
//
// By default an item's error (or a captured panic, or a source error of [RunSeq2]) is that
// item's result and the run carries on.
// With [FailFast] the first error ends the run: no item starts after it, the context passed to
// work funcs still running is cancelled with the error as its cause, and the error (with its
// item) is the run's last result, delivered once the items already running have returned;
// results of other items that finished meanwhile are dropped. To make "no item starts after it"
// exact, a fail-fast worker starts each item under the read side of a lock that the consumer
// takes before it delivers the error, which costs a shared atomic an item in fail-fast runs only.
//
// The context is checked before every item, and a run whose context has ended starts nothing:
// the source is not read further (the reader checks the context after each item it takes, so
// it takes at most the item in hand after the end), every item already read gets the context's
// cause as its error
// (the work func is not called for it), and the last result is (zero value, cause), which tells
// the consumer that the source was not read to its end. A fail-fast run ends with the cause
// alone, whenever the context ends: before, during or after the source is read.
//
// The run ends the context it passes to work funcs once it is over, so that nothing it started
// outlives it: with [ErrFinished] after its last result, with [ErrStopped] when the consumer
// stopped reading results before their end (it broke out of the range, returned, or panicked),
// and otherwise with the cause that ended it (the parent's, a fail-fast error, a source's
// panic). ErrFinished and ErrStopped wrap context.Canceled: a work func or a goroutine it
// started tells a run that was let go from one that failed with errors.Is(context.Cause(ctx),
// context.Canceled). The names are pipe's, for the same two endings.
//
// # Panics
//
// A panic in the work func is recovered on the worker (one deferred recover a claim, the guard
// pool shares with package group), with the worker's stack, and becomes that item's error, a *[PanicError] (errors.As reaches it; its Unwrap reaches a panic value that is an
// error). The other items and the workers carry on. With [Repanic] the consumer's goroutine
// re-raises the *[PanicError] instead, once every goroutine of the run has ended, so the panic
// surfaces where the results are read, as it would in a sequential loop.
//
// A panic of the source (an iter.Seq that meets bad input, say) never crashes the process from
// the goroutine that reads it: it ends the run as the end of the context does, with the panic
// as the cause. No item starts any more, every item already read gets an error that wraps the
// *[PanicError], and the run's last result is that error; with [Repanic] the consumer's
// goroutine re-raises the *[PanicError] instead. A work func or source that calls
// runtime.Goexit (as testing.T.FailNow does) is treated like one that panicked, with [ErrGoexit]:
// the item fails, and the worker, whose goroutine cannot be saved, is replaced.
//
// # Goroutines and stopping early
//
// A run starts its workers and one goroutine that reads the source; they belong to the run. The
// range over the results ends only after every one of them has ended, whichever way it ends: the
// source ends, the consumer breaks out of the loop (or returns, or panics), the context ends, or
// a fail-fast error. Nothing needs draining. Breaking out early stops the source at its next
// yield, so an iter.Seq source that can block for long (on a channel, a socket) should watch the
// same context or be a channel given to [RunChan]: RunChan's reader selects on the context, so a
// run over a channel that delivers nothing still ends at once when the context ends.
//
// [RunChan] delivers results on a channel, which is closed once every goroutine of the run has
// ended. Read it until it is closed: after the context ends it still carries a result for every
// item the run took from the source, and the cause last. To stop early, cancel the context and
// drain the channel, which then takes only as long as the work funcs already running.
//
// # Batching
//
// The reader publishes items into fixed chunks of 256 with one atomic store per item and no lock;
// an idle worker claims a run of published items with one compare-and-swap, processes them with
// no synchronisation at all, and hands over all their results at once. A worker learns how long
// its items take and claims about 20 us of work at a time (at most [MaxBatch] items, and at most
// its share of what is published): cheap items move in large batches, so the per-item cost of
// the hand-over is a fraction of a nanosecond; slow items go one at a time, spread over the idle
// workers, and each result is handed over as soon as its item is done.
//
// A finished result is never held back behind a batch-mate that runs long, or blocks until the
// consumer does something next, or never returns: before each item of a batch but the first, the
// worker publishes the results it holds (one atomic store), and when some are published and the
// consumer has not looked for 250 us, it takes them from the batch in progress itself (when a
// batch comes in, or woken by a timer while it waits). So a result reaches the consumer within
// about 250 us of its item's end, plus the consumer's wake-up, not 20 us of batch-mates' work
// later at best and never at worst as before; with [Ordered], every result before the long item
// comes out. The items claimed with a long item and not started yet wait for it: they are not
// finished, and each is run once, by the worker that claimed it. [Slice] returns its results
// when every item is done, so it has nothing to hand over early. When the source is slow,
// a worker takes each item as soon as it is published and never waits to fill a batch. Memory is
// bounded: at most 2 x workers + 2 chunks and two result batches a worker exist, so the heap
// stays flat however many items stream through. A worker makes its batches when it first
// claims items, with room for 4 KiB of results (all 256 of them, for results of 16 bytes or
// less), and a batch grows sixteenfold when a claim does not fit, up to [MaxBatch] results: a
// short run with many workers costs under 1 KiB for each worker that finds nothing to do (a run
// of 10 items of 256 bytes on 1024 workers allocates about 0.8 MiB, not 129 MiB).
// docs/pool.md states the invariants of the feed and of the early hand-over.
//
// # Work that waits
//
// Workers default to GOMAXPROCS, which keeps the cores busy when the work func uses the CPU.
// When it mostly waits (a database, a remote call), what bounds throughput is how many items are
// in flight, not the cores: give [Workers] the concurrency you want (Workers(256) keeps 256
// calls waiting at once). With more workers than processors, idle workers sleep at once instead
// of yielding first, and claims go one item at a time, since such items are slow. The W4
// benchmark (4 stages of about 100 us of waiting) measures it: with Workers(16) a run takes
// about the ideal time (items x stages x wait / 16); at 256 and more waits at once, the wake-ups
// themselves load a 2-core machine (see docs/benchmarks.md).
//
// # Cost
//
// Measured on a 2-core machine (GOMAXPROCS 2) with the module's bench package (docs/benchmarks.md,
// medians of 5 runs; ratios, since the machine is noisy):
//   - W1, 1M items through 4 trivial stages run by an fsm.Machine: about 4 times the cost of
//     calling the stage funcs directly on 2 goroutines (30.9 ns against 8.08 ns an item in the
//     latest report, 3.8 times; 116 against 13.8 in the one before, in the slower of the two
//     modes the host of the benchmarks runs W1 pool in, and before the reader cleared recycled
//     chunks), and 0.0001 allocations an item (the run's fixed set-up; nothing per item). The
//     fastest peer library takes about 20 times as long, with 2 to 4 allocations an item.
//     [Slice] over the same items in memory: 2.8 to 3.9 times direct calls (1.6 times with the
//     bare stage funcs as the work func, BenchmarkSliceOverhead).
//   - W2, 100k items through 4 stages of about 2 us of CPU each: as fast as direct calls.
//   - Going from 1 to 8 trivial stages adds about 15 to 35 ns an item (the machine's dispatch),
//     against about 800 to 1,200 ns for a channel-per-stage pipeline.
//   - Streaming 10M items: the heap in use stays flat (BenchmarkStreamHeap).
//
// The gap to direct calls on trivial work is the hand-over and the machine. Each item is
// published with one atomic store (a full fence on amd64, which also waits for the item's cache
// lines to be owned by the reader's core: the reader clears a recycled chunk first, so that
// those lines come over all at once and not one a fence) and crosses cores twice (reader to
// worker, worker to consumer), while the reader, two workers and the consumer share two cores; before each item
// but a batch's first, the worker publishes the results it holds with a second atomic store,
// the price of never holding a finished result back (in the W1 profile each of the two stores
// is about 12% of the samples); the state machine checks the context before each stage and
// calls each through a slice or a table, and the pool checks the context before each item. When
// the parent context cannot end, both checks are a load of the run's own flag (the context work
// funcs get answers Err and Done from it). Direct calls pay none of that. See docs/pool.md.
package pool
