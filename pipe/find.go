package pipe

import (
	"context"
	"sync/atomic"
)

// First returns the first item of in and true, stopping the pipeline as soon as it has it
// ([Pipeline.Stop]: the stages upstream end, and nothing leaks), then waits for the pipeline and
// returns its outcome. If in is closed before any item comes, or the pipeline ends first, First
// returns the zero value and false, with the outcome (nil, or the error that ended it). First
// blocks until every goroutine of p has ended.
func First[T any](p *Pipeline, in <-chan T) (T, bool, error) {
	mustInput("First", in)
	var first T
	found := false
	err := sink(p.part("First", ""), in, func(_ context.Context, v T) error {
		first, found = v, true
		p.Stop()
		return nil
	})
	return first, found, err
}

// Any reports whether pred reports true for some item of in. It stops the pipeline at the first
// such item ([Pipeline.Stop]), and reports false once in is closed without one. An error of pred
// fails the pipeline: Any then returns false and the error, wrapped in a *[StageError]; so it
// does with the outcome of a pipeline that failed first. Of the options, Any takes [Workers]
// (pred runs on that many goroutines of p at once, and must then be safe for concurrent use) and
// [Name]. Any blocks until every goroutine of p has ended. Any panics if pred is nil.
func Any[T any](p *Pipeline, in <-chan T, pred func(context.Context, T) (bool, error), opts ...Option) (bool, error) {
	if pred == nil {
		panic("pipe: Any: nil func")
	}
	return search(p, "Any", in, pred, true, opts)
}

// Every reports whether pred reports true for every item of in (true for an empty in). It stops
// the pipeline at the first item for which pred reports false. Errors and options are as for
// [Any]. Every blocks until every goroutine of p has ended. Every panics if pred is nil.
func Every[T any](p *Pipeline, in <-chan T, pred func(context.Context, T) (bool, error), opts ...Option) (bool, error) {
	if pred == nil {
		panic("pipe: Every: nil func")
	}
	found, err := search(p, "Every", in, pred, false, opts)
	return !found && err == nil, err
}

// search reports whether pred gives want for some item of in, stopping the pipeline at the first.
func search[T any](p *Pipeline, kind string, in <-chan T, pred func(context.Context, T) (bool, error), want bool, opts []Option) (bool, error) {
	mustInput(kind, in)
	o := newOptions(opts)
	var found atomic.Bool
	err := sinkN(p.part(kind, o.name), in, o.workers, func(ctx context.Context, v T) error {
		got, err := pred(ctx, v)
		if err != nil {
			return err
		}
		if got == want {
			found.Store(true)
			p.Stop()
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return found.Load(), nil
}
