// Package pipe connects typed processing stages with channels: the classic Go pipeline, one
// goroutine group a stage, done right. Every stage stops when its pipeline ends, a sink that stops
// early never leaves a goroutine blocked upstream, and errors have one model.
//
//	p := pipe.New(ctx)
//	msgs := pipe.FromSeq(p, incoming)
//	clean := pipe.Map(p, msgs, censor, pipe.Workers(4), pipe.Ordered())
//	err := pipe.ForEach(p, clean, persist)
//
// # Stages and their funcs
//
// Stage funcs are the caller's plain typed funcs, func(context.Context, In) (Out, error); with In
// and Out the same type, it is the shape fsm's Step, pool and group take, so the same funcs serve
// every design. [Map], [Filter], [FilterMap] and [FlatMap] run theirs on
// [Workers] goroutines, each stage's output channel buffered to [Buffer] (default
// [DefaultBuffer]). [Batch] groups items by size and by time; [Merge] fans in; [Tee] fans out by
// copy.
//
// Workers defaults to 1, where pool and group default to GOMAXPROCS: a pipe stage is a goroutine
// group of its own, so a pipeline of k stages already runs k goroutines at once, and the stage
// that needs more (the slow one) is the one to give Workers; with one worker a stage keeps its
// input order at no cost.
//
// With several workers, outputs come in completion order unless the stage is [Ordered], which
// keeps input order: at most [Window] items (default [DefaultWindow]) are inside the stage at
// once, so a slow item holds back a bounded number of finished ones. An item that finishes ahead
// of its turn keeps at most 64 of its outputs ([FlatMap] may emit many); past that, its emit waits
// for its turn. So an ordered stage holds at most Window items and Window x 64 outputs, plus its
// output channel.
//
// # Goroutines: who owns them, what blocks, when channels close
//
// A [Pipeline] (from [New]) owns every goroutine its sources and stages start; the functions that
// build stages return at once. A stage closes its output channel when its input is closed and its
// workers are done, or when the pipeline has ended. Every send and receive of a stage that would
// block also watches the pipeline's context, so an ended pipeline unblocks every stage, whatever
// its neighbours do, and the emit func of [FlatMap] and [Generate] reports false from then on (even
// if the output channel has room): a func that emits many values learns at its next emit that
// nothing more will be delivered, and should return. The sinks ([ForEach], [Collect], [Reduce],
// [Drain], [First], [Any], [Every]) block on the calling goroutine and return only after every
// goroutine of the pipeline has ended ([Pipeline.Wait], which also releases the pipeline's context
// from its parent, so a long-lived parent keeps nothing of ended pipelines). The bridges [All] and
// [Values] do the same when their range ends, including by break, which stops the pipeline
// ([Pipeline.Stop]) first: stopping early never needs draining. The sequence of one All or Values
// call can be ranged over once; a second range panics. A source built with [FromSeq] runs the
// sequence on a goroutine of the pipeline and stops it at its next yield.
//
// # Sinks
//
// A sink reads a channel to its end and returns the pipeline's outcome: [ForEach] calls a func on
// every item, [Collect] keeps them, [Reduce] folds them, [Drain] discards them. [First], [Any] and
// [Every] stop the pipeline ([Pipeline.Stop]) as soon as they know their answer (the first item;
// an item for which the predicate holds; one for which it does not), so they end an endless
// source too and leave nothing running. ForEach, Any and Every take [Workers]: with Workers(n)
// their func runs on n goroutines of the pipeline at once (so it must be safe for concurrent
// use), instead of on the calling goroutine. Reduce keeps one goroutine: its fold is sequential,
// in the order the items come; the parallel work belongs in the stage before it (see
// Example_mapReduce, and docs/pipe.md for why pipe has no Catch, Split2 or MapReduce).
//
// # Errors: fail fast, first event wins
//
// The first event that ends a pipeline is its outcome, and the sink returns it (or [All]'s last
// pair, or [Pipeline.Wait]):
//   - an error of a stage func, a sink func or a source, or a panic or runtime.Goexit in any of
//     them: the error wrapped in a *[StageError] that names the part it came from, by its kind and
//     position among the parts built on the pipeline ("pipe: Map #2: boom"), or by the name given
//     with [Name] ("pipe: validate (Map #2): boom"); errors.Is and errors.As reach the original;
//   - the end of the parent context: its cause (context.Cause), as given, unwrapped;
//   - [Pipeline.Stop], which a sink calls when it has read all it wants: no error.
//
// The cause of the pipeline's context (context.Cause of [Pipeline.Context], what a stage func's
// ctx carries) is that event: the error, the parent's cause, or [ErrStopped] after a stop; after
// a run to the end, [Pipeline.Wait] cancels the context with [ErrFinished]. ErrStopped and
// ErrFinished wrap context.Canceled, so errors.Is(context.Cause(ctx), context.Canceled) tells a
// shutdown from a failure.
//
// The event cancels the pipeline's context with itself as the cause, so every stage stops. What
// happens after it is its consequence and is not reported: a stage func that returns ctx.Err()
// once cancelled, or a second failing stage. Once the end is decided, no user func is called
// again: no stage func, sink func or loop body is given an item, even one already waiting in a
// channel (a call already running goes on until it returns; its context is done).
//
// Failing fast drops what is in flight: items between stages, and the outputs of stage funcs that
// succeeded but were not yet delivered, are discarded when the pipeline ends. To keep going past
// a bad item instead, carry its error in the item type (a struct with an err field, say), return
// a nil error from the stage func, and decide in the sink; or turn the bad item into a value, or
// filter it out, in the stage func. See Example_perItemErrors.
//
// # Panics and Goexit
//
// A panic in a user func on a goroutine of the pipeline (a source's sequence or generator, a stage
// func) is recovered there, with its stack, and fails the pipeline with a *[PanicError]: a
// goroutine the pipeline owns must not crash the program, and the panic is reported where the
// pipeline's result is read. A panic in a sink func ([ForEach], [Reduce], the predicate of [Any]
// or [Every]) does the same, on the caller's goroutine (or, with [Workers], on the pipeline's):
// the sink returns it. A panic in the loop body of a range over [All] or
// [Values] is the caller's own: the pipeline fails with it and ends, and the panic goes on on the
// caller's goroutine, as it would in a plain loop. A user func that calls runtime.Goexit (what
// testing.T.FailNow does) fails the pipeline with [ErrGoexit] and hangs nothing; on the caller's
// goroutine (a sink func with one worker, a loop body) the goroutine then exits, as Goexit means,
// after every goroutine of the pipeline has ended.
//
// # Misuse panics
//
// A programming error panics at the call that makes it, with a message that names the function
// and the bad value: a nil context in [New] (the one function that takes a context: every other
// gets it from its Pipeline), a nil *Pipeline, a nil func, a nil input channel ("pipe: Map: nil
// input channel of int": a nil channel would block its stage forever), an option out of range
// ([Workers], [Buffer], [Window], [Name]). A sink that ends with an error returns what it had so
// far with it: [Collect] the items it collected, [Reduce] the fold of the items it received.
//
// # Cost
//
// Each stage is a channel hop: a channel operation and, often, a goroutine wake-up, against a few
// ns a stage for pool running an fsm.Machine (docs/benchmarks.md has the figures). A receive or
// a send that can go at once goes without a select; only one that would block also waits on the
// pipeline's end. So pipe costs no more than the same pipeline written by hand, a goroutine a
// stage with a select on the context at every send and a plain range at every receive:
// BenchmarkHand measures both in one run (docs/pipe.md has the ratios). A stage allocates
// nothing an item. Use pipe when stages need different concurrency or batching; use pool when
// they do not.
package pipe
