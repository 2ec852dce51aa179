package pipe

import (
	"context"
	"iter"
	"sync/atomic"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// ForEach calls fn for every item of in, then waits for the pipeline and returns its outcome
// ([Pipeline.Wait]). An error fn returns fails the pipeline and is returned, wrapped in a
// *[StageError]; so is a panic in fn, as a *[PanicError]. ForEach blocks until every goroutine
// of p has ended. Of the options, it takes [Workers] and [Name]: with one worker (the default)
// fn runs on the calling goroutine, in the order of in; with Workers(n), on n goroutines of p at
// once, so fn must be safe for concurrent use, and a runtime.Goexit in fn fails the pipeline
// without ending the calling goroutine. ForEach panics if fn is nil.
func ForEach[T any](p *Pipeline, in <-chan T, fn func(context.Context, T) error, opts ...Option) error {
	if fn == nil {
		panic("pipe: ForEach: nil func")
	}
	mustInput("ForEach", in)
	o := newOptions(opts)
	return sinkN(p.part("ForEach", o.name), in, o.workers, fn)
}

// sinkN runs fn on every item of in on workers goroutines, then waits for the pipeline: on the
// calling goroutine when workers is 1, else on goroutines of the pipeline, which handles their
// panics as it does a stage's.
func sinkN[T any](pt *part, in <-chan T, workers int, fn func(context.Context, T) error) error {
	if workers == 1 {
		return sink(pt, in, fn)
	}
	p := pt.p
	for range workers {
		pt.spawn(func() {
			for v := range receive(p, in) {
				if err := fn(p.ctx, v); err != nil {
					pt.fail(err)
					return
				}
			}
		})
	}
	return p.Wait()
}

// sink runs fn on every item of in on the calling goroutine, then waits for the pipeline. A panic
// in fn fails the pipeline and is returned as its error; a runtime.Goexit in fn fails it too, and
// the pipeline's goroutines have ended before the calling goroutine does.
func sink[T any](pt *part, in <-chan T, fn func(context.Context, T) error) (err error) {
	p := pt.p
	returned := false
	defer func() {
		if !returned {
			pt.fail(panics.Caught(recover()))
			err = p.Wait()
		}
	}()
	for v := range receive(p, in) {
		if err := fn(p.ctx, v); err != nil {
			pt.fail(err)
			break
		}
	}
	returned = true
	return p.Wait()
}

// Collect returns every item of in, in the order it receives them, and the pipeline's outcome. On
// error it returns what it collected so far. Collect blocks until every goroutine of p has ended.
func Collect[T any](p *Pipeline, in <-chan T) ([]T, error) {
	mustInput("Collect", in)
	var all []T
	err := sink(p.part("Collect", ""), in, func(_ context.Context, v T) error {
		all = append(all, v)
		return nil
	})
	return all, err
}

// Reduce folds every item of in into acc with fn, starting from init, in the order it receives
// them, and returns the result and the pipeline's outcome. On error it returns the partial
// result (the fold of the items it received before the end) with the error. A panic in fn fails
// the pipeline, like a stage func's. Reduce blocks
// until every goroutine of p has ended. Reduce panics if fn is nil.
func Reduce[T, A any](p *Pipeline, in <-chan T, init A, fn func(acc A, v T) A) (A, error) {
	if fn == nil {
		panic("pipe: Reduce: nil func")
	}
	mustInput("Reduce", in)
	acc := init
	err := sink(p.part("Reduce", ""), in, func(_ context.Context, v T) error {
		acc = fn(acc, v)
		return nil
	})
	return acc, err
}

// Drain reads and discards every item of in and returns the pipeline's outcome. Drain blocks until
// every goroutine of p has ended.
func Drain[T any](p *Pipeline, in <-chan T) error {
	mustInput("Drain", in)
	return sink(p.part("Drain", ""), in, func(context.Context, T) error { return nil })
}

// All returns in as a sequence of (item, nil) pairs, ending, if the pipeline failed, with one
// (zero, error) pair. Breaking out of the range stops the pipeline; either way, the range ends
// only after every goroutine of p has ended. A panic in the loop body fails the pipeline (a
// *[PanicError], which a later [Pipeline.Wait] returns), waits for its goroutines, and goes on
// panicking on the caller's goroutine, as it would in a plain loop. The sequence can be ranged
// over once: a second range panics.
func All[T any](p *Pipeline, in <-chan T) iter.Seq2[T, error] {
	mustInput("All", in)
	pt := p.part("All", "")
	var ranged atomic.Bool
	return func(yield func(T, error) bool) {
		if ranged.Swap(true) {
			panic("pipe: All: ranged over a second time; the sequence of one All call can be ranged over once")
		}
		done := false
		defer pt.consumerEnded(&done)
		for v := range receive(p, in) {
			if !yield(v, nil) {
				p.Stop()
				_ = p.Wait() // the consumer stopped: what went wrong after is not its concern
				done = true
				return
			}
		}
		err := p.Wait()
		done = true
		if err != nil {
			var zero T
			yield(zero, err)
		}
	}
}

// Values returns in as a sequence of items, for a pipeline whose outcome is read afterwards with
// [Pipeline.Wait]. Breaking out of the range stops the pipeline, and the range ends only after
// every goroutine of p has ended. A panic in the loop body is handled as in [All]. The sequence
// can be ranged over once: a second range panics.
func Values[T any](p *Pipeline, in <-chan T) iter.Seq[T] {
	mustInput("Values", in)
	pt := p.part("Values", "")
	var ranged atomic.Bool
	return func(yield func(T) bool) {
		if ranged.Swap(true) {
			panic("pipe: Values: ranged over a second time; the sequence of one Values call can be ranged over once")
		}
		done := false
		defer pt.consumerEnded(&done)
		for v := range receive(p, in) {
			if !yield(v) {
				p.Stop()
				break
			}
		}
		_ = p.Wait()
		done = true
	}
}

// consumerEnded runs deferred in All's and Values's iterator. If the range did not end normally,
// the loop body panicked or called runtime.Goexit: the pipeline fails with it, its goroutines end,
// and the panic goes on (a range-over-func iterator must not swallow a panic of the loop body).
func (pt *part) consumerEnded(done *bool) {
	if *done {
		return
	}
	v := recover()
	pt.fail(panics.Caught(v))
	_ = pt.p.Wait()
	if v != nil {
		panic(v)
	}
}
