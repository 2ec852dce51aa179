package pool

import (
	"context"
	"iter"
)

// RunSeq2 is [Run] for a source that can fail, as a directory walk, a database cursor or a
// file's reader can: src yields each item with an error, and an item whose error is not nil is
// not run. By default it is that position's result, the item (as src yielded it) with its
// error, in its place with [Ordered], and the run carries on reading src; an item not run
// because the run's context had ended keeps its error too. With [FailFast], a source error
// ends the run as a work func's error would at its position: the reader stops at it, a worker
// fails it in its turn, no item starts after that, and it is the run's last result (unless an
// item failed first, or the context ended). Otherwise the results are those of [Run].
//
// RunSeq2 panics if ctx, src or fn is nil.
func RunSeq2[T any](ctx context.Context, src iter.Seq2[T, error], fn func(context.Context, T) (T, error), opts ...Option) iter.Seq2[T, error] {
	mustRun("RunSeq2", ctx, "source", src != nil, fn != nil)
	o := newOptions(opts)
	work := func(ctx context.Context, it sourced[T]) (T, error) {
		if it.err != nil {
			return it.v, it.err
		}
		return fn(ctx, it.v)
	}
	return func(yield func(T, error) bool) {
		r := start(ctx, work, sourcedFailed[T], sourcedSkipped[T], o)
		r.produce(seq2Reader(r, src))
		r.consume(yield)
	}
}

// sourced is an item of RunSeq2 as its source yielded it.
type sourced[T any] struct {
	v   T
	err error
}

// sourcedFailed is what a failed item of RunSeq2 yields: the item, with its error.
func sourcedFailed[T any](it sourced[T], err error) (T, error) { return it.v, err }

// sourcedSkipped is what an item of RunSeq2 not run yields: the source's error if it has one,
// else the cause.
func sourcedSkipped[T any](it sourced[T], cause error) (T, error) {
	if it.err != nil {
		return it.v, it.err
	}
	return it.v, cause
}

// seq2Reader is seqReader for RunSeq2. In a fail-fast run it stops reading at a source error,
// once it has published it: the run is to end there, and a worker fails the item in its turn,
// as it would fail an item whose work func returned the error.
func seq2Reader[T any](r *run[sourced[T], T], src iter.Seq2[T, error]) func(quit <-chan struct{}) bool {
	return func(quit <-chan struct{}) bool {
		if r.done() {
			return false
		}
		for v, err := range src {
			if !r.feed.push(sourced[T]{v: v, err: err}, quit) || r.done() {
				return false
			}
			if err != nil && r.o.failFast {
				return false
			}
		}
		return true
	}
}
