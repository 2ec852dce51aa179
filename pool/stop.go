package pool

import (
	"context"
	"errors"
)

// How a run ends. Every way goes through the run's context, so that one check before each item
// (runCtx.done: ctx.Err(), or the run's own flag when the parent can never end, set before the
// context is cancelled) is all a worker needs, and it is exact: nothing starts after the context
// ended but an item whose check came just before the end.
//
//  1. Something ends the run's context: the parent context ends; the consumer stops ranging
//     (stop, with ErrStopped, or with ErrFinished once every result was delivered); a fail-fast
//     run records its first error (fail); the source panics (produce). Each cancels the run's
//     context with its cause; the first cause wins.
//  2. The producer checks the same way after it publishes each item, and stops reading the
//     source at the first check that finds the context ended, so it takes at most the item in
//     hand after the end (cut records that it did not reach the end). Every item it read was
//     published.
//  3. Workers see the context ended before each item: they do not run it, they give it the
//     cause as its error (skip), and they carry on until the feed is drained, so every item read
//     gets a result. After stop, workers exit at once instead (quit): nobody reads any more.
//  4. The last worker to leave closes the results channel; the consumer delivers what is left,
//     then its last word (tail): a fail-fast run's first error, or the cause when the source was
//     cut. consume's deferred finish then waits for every goroutine of the run.
//
// Fail-fast runs add a gate: workers start each item under its read side, and the consumer takes
// the write side before it delivers the first error, so every item started before the error was
// recorded has finished by then, and none starts after it.

// ErrStopped is the cause of a run's context (the one passed to the work func) once the
// consumer has stopped reading results before their end: it broke out of the range, returned
// from it, or panicked in its body. Work funcs still running see their context cancelled with
// it. It wraps context.Canceled, so errors.Is(context.Cause(ctx), context.Canceled) tells a
// run that was let go from one that failed.
var ErrStopped error = &endError{"pool: the consumer stopped reading results"}

// ErrFinished is the cause of a run's context once the run has delivered its last result (a
// context kept past its work func's return, or a goroutine it started, sees it). It wraps
// context.Canceled, as [ErrStopped] does. [Slice] ends its context with it too, when it returns.
var ErrFinished error = &endError{"pool: the run finished"}

// endError is the cause of a run's context when the run ends it without a failure: a
// cancellation, as errors.Is(err, context.Canceled) reports.
type endError struct{ msg string }

func (e *endError) Error() string { return e.msg }
func (e *endError) Unwrap() error { return context.Canceled }

// stop ends the run for good: the consumer will read nothing more.
func (r *run[In, Out]) stop(cause error) {
	r.quitOne.Do(func() {
		r.end(cause)
		close(r.quit)
		r.feed.stop()
	})
}

// fail records the first error of a fail-fast run and stops new items from starting.
func (r *run[In, Out]) fail(v In, err error) {
	out, err := r.failed(v, err)
	if r.first.CompareAndSwap(nil, &Result[Out]{Value: out, Err: err}) {
		r.end(err)
	}
}

// tail yields the run's last word once every worker has ended: a fail-fast run's first error,
// or the cause when the producer stopped before the source's end.
func (r *run[In, Out]) tail(yield func(Out, error) bool) {
	if first := r.first.Load(); first != nil {
		yield(first.Value, first.Err)
		return
	}
	if r.cut.Load() {
		cause := r.cause()
		r.maybeRepanic(cause)
		var zero Out
		yield(zero, cause)
	}
}

// maybeRepanic re-raises a captured panic on the consumer's goroutine when the run asked for
// it, after every goroutine of the run has ended.
func (r *run[In, Out]) maybeRepanic(err error) {
	var pe *PanicError
	if r.o.repanic && errors.As(err, &pe) {
		r.finish(ErrStopped)
		panic(pe)
	}
}

// firstError waits for every item started before the first error of a fail-fast run to finish,
// with no item starting after it, and returns that error.
func (r *run[In, Out]) firstError() *Result[Out] {
	r.stop(ErrStopped)
	r.gate.Lock() // the barrier: the write side is ours once no item runs under the read side
	defer r.gate.Unlock()
	return r.first.Load()
}

// finish stops the run, with cause unless its context has ended already, and waits for every
// goroutine of it. It can be called more than once.
func (r *run[In, Out]) finish(cause error) {
	r.stop(cause)
	r.wg.Wait()
}
