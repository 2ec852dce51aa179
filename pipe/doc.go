// Package pipe connects typed processing stages with channels: the classic Go pipeline, one
// goroutine group a stage, done right. Every stage stops when its context is cancelled, a sink
// that stops early never leaves a goroutine blocked upstream, and errors have one model.
//
//	p := pipe.New(ctx)
//	msgs := pipe.FromSeq(p, incoming)
//	clean := pipe.Map(p, msgs, censor, pipe.Workers(4), pipe.Ordered())
//	err := pipe.ForEach(p, clean, persist)
//
// # Stages and their funcs
//
// Stage funcs are the caller's plain typed funcs, func(context.Context, In) (Out, error): the
// shape fsm and pool use too, so one set of stage funcs runs either way. [Map], [Filter],
// [FilterMap] and [FlatMap] run one on [Workers] goroutines (default 1), each stage's output
// channel buffered to [Buffer] (default [DefaultBuffer]). With several workers, outputs come in
// completion order unless the stage is [Ordered], which keeps input order with a reorder window
// bounded by the buffer size. [Batch] groups items by size and by time; [Merge] fans in; [Tee]
// fans out by copy.
//
// # Goroutines: who owns them, what blocks, when channels close
//
// A [Pipeline] (from [New]) owns every goroutine its sources and stages start; the functions that
// build stages return at once. A stage closes its output channel when its input is closed and its
// workers are done, or when the pipeline is cancelled. Every send and receive of a stage also
// watches the pipeline's context, so a cancelled pipeline unblocks every stage, whatever its
// neighbours do. The sinks ([ForEach], [Collect], [Reduce], [Drain]) block on the calling
// goroutine and return only after every goroutine of the pipeline has ended ([Pipeline.Wait]).
// The bridges [All] and [Values] do the same when their range ends, including by break, which
// stops the pipeline ([Pipeline.Stop]) first: stopping early never needs draining. A source built
// with [FromSeq] runs the sequence on a goroutine of the pipeline and stops it at its next yield.
//
// # Errors: fail fast, first error wins
//
// The first error of the pipeline — a stage func's, a sink func's, a source's, or a panic —
// cancels the pipeline's context with that error as its cause, so every stage stops, and it is
// the error the sink returns (or [All]'s last pair, or [Pipeline.Wait]'s result). No error is
// dropped: if several stages fail at once, the first recorded is returned and the others ended
// because of it. A cancelled parent context ends the pipeline with the parent's cause as its
// error. Per-item error handling (skip, retry, dead-letter) belongs in the stage func, which can
// turn a bad item into a value or filter it out.
//
// # Panics
//
// A panic in a user func on a stage goroutine is recovered there, with its stack, and fails the
// pipeline with a *[PanicError]: a stage goroutine must not crash the program, and the panic is
// reported where the pipeline's result is read.
//
// # Cost
//
// Each stage is a channel hop: on a 2-core machine, the bench package's W1 (4 trivial stages)
// costs about 800 ns an item, and each added stage about 100-250 ns (a channel operation and a
// goroutine wake-up), against under 5 ns a stage for pool running an fsm.Machine. Use pipe when
// stages need different concurrency or batching; use pool when they do not.
package pipe
