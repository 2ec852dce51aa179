package pipe

import (
	"context"
	"iter"
)

// ForEach calls fn for every item of in, on the calling goroutine, then waits for the pipeline
// and returns its error ([Pipeline.Wait]). An error fn returns fails the pipeline and is
// returned. ForEach blocks until every goroutine of p has ended. ForEach panics if fn is nil.
func ForEach[T any](p *Pipeline, in <-chan T, fn func(context.Context, T) error) error {
	if fn == nil {
		panic("pipe: ForEach: nil func")
	}
	mustInput(in)
	for v := range receive(p, in) {
		if err := fn(p.ctx, v); err != nil {
			p.fail(err)
			break
		}
	}
	return p.Wait()
}

// Collect returns every item of in, in the order it receives them, and the pipeline's error. On
// error it returns what it collected so far. Collect blocks until every goroutine of p has ended.
func Collect[T any](p *Pipeline, in <-chan T) ([]T, error) {
	var all []T
	err := ForEach(p, in, func(_ context.Context, v T) error {
		all = append(all, v)
		return nil
	})
	return all, err
}

// Reduce folds every item of in into acc with fn, starting from init, and returns the result and
// the pipeline's error. Reduce blocks until every goroutine of p has ended. Reduce panics if fn
// is nil.
func Reduce[T, A any](p *Pipeline, in <-chan T, init A, fn func(acc A, v T) A) (A, error) {
	if fn == nil {
		panic("pipe: Reduce: nil func")
	}
	acc := init
	err := ForEach(p, in, func(_ context.Context, v T) error {
		acc = fn(acc, v)
		return nil
	})
	return acc, err
}

// Drain reads and discards every item of in and returns the pipeline's error. Drain blocks until
// every goroutine of p has ended.
func Drain[T any](p *Pipeline, in <-chan T) error {
	return ForEach(p, in, func(context.Context, T) error { return nil })
}

// All returns in as a sequence of (item, nil) pairs, ending, if the pipeline failed, with one
// (zero, error) pair. Breaking out of the range stops the pipeline; either way, the range ends
// only after every goroutine of p has ended. The sequence can be ranged over once.
func All[T any](p *Pipeline, in <-chan T) iter.Seq2[T, error] {
	mustInput(in)
	return func(yield func(T, error) bool) {
		for v := range receive(p, in) {
			if !yield(v, nil) {
				p.Stop()
				_ = p.Wait() // the consumer stopped: what went wrong after is not its concern
				return
			}
		}
		if err := p.Wait(); err != nil {
			var zero T
			yield(zero, err)
		}
	}
}

// Values returns in as a sequence of items, for a pipeline whose error is read afterwards with
// [Pipeline.Wait]. Breaking out of the range stops the pipeline, and the range ends only after
// every goroutine of p has ended.
func Values[T any](p *Pipeline, in <-chan T) iter.Seq[T] {
	mustInput(in)
	return func(yield func(T) bool) {
		for v := range receive(p, in) {
			if !yield(v) {
				p.Stop()
				break
			}
		}
		_ = p.Wait()
	}
}
