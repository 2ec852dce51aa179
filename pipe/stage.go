package pipe

import (
	"context"
	"fmt"
	"sync"
)

// Map returns a channel of fn applied to every item of in. A stage func's error fails the
// pipeline, wrapped in a *[StageError] naming the stage (see the package documentation). Map returns at once; the stage's goroutines belong
// to p. Map panics if fn is nil.
func Map[In, Out any](p *Pipeline, in <-chan In, fn func(context.Context, In) (Out, error), opts ...Option) <-chan Out {
	if fn == nil {
		panic("pipe: Map: nil func")
	}
	return stage(p, "Map", in, newOptions(opts), func(ctx context.Context, v In, emit func(Out) bool) error {
		out, err := fn(ctx, v)
		if err == nil {
			emit(out)
		}
		return err
	})
}

// Filter returns a channel of the items of in for which keep reports true. Filter panics if keep
// is nil.
func Filter[T any](p *Pipeline, in <-chan T, keep func(context.Context, T) (bool, error), opts ...Option) <-chan T {
	if keep == nil {
		panic("pipe: Filter: nil func")
	}
	return stage(p, "Filter", in, newOptions(opts), func(ctx context.Context, v T, emit func(T) bool) error {
		ok, err := keep(ctx, v)
		if ok && err == nil {
			emit(v)
		}
		return err
	})
}

// FilterMap returns a channel of fn applied to the items of in, keeping only the outputs for which
// fn reports true: a Map and a Filter in one hop. FilterMap panics if fn is nil.
func FilterMap[In, Out any](p *Pipeline, in <-chan In, fn func(context.Context, In) (Out, bool, error), opts ...Option) <-chan Out {
	if fn == nil {
		panic("pipe: FilterMap: nil func")
	}
	return stage(p, "FilterMap", in, newOptions(opts), func(ctx context.Context, v In, emit func(Out) bool) error {
		out, ok, err := fn(ctx, v)
		if ok && err == nil {
			emit(out)
		}
		return err
	})
}

// FlatMap returns a channel of every output fn emits for every item of in; fn calls emit for each
// output, and should return when emit reports false: the pipeline has ended (it failed, was
// stopped, or its parent context ended), and nothing more will be delivered. emit must not be
// called after fn has returned. In an [Ordered] stage with several workers, an item that finishes
// ahead of its turn keeps at most [DefaultBuffer] of its outputs; past that, emit waits until the
// item's turn comes (or the pipeline ends). FlatMap panics if fn is nil.
func FlatMap[In, Out any](p *Pipeline, in <-chan In, fn func(ctx context.Context, v In, emit func(Out) bool) error, opts ...Option) <-chan Out {
	if fn == nil {
		panic("pipe: FlatMap: nil func")
	}
	return stage(p, "FlatMap", in, newOptions(opts), fn)
}

// stage runs fn over in on o.workers goroutines of p and returns the stage's output channel,
// which is closed once every worker has ended.
func stage[In, Out any](p *Pipeline, kind string, in <-chan In, o options, fn func(context.Context, In, func(Out) bool) error) <-chan Out {
	mustInput(kind, in)
	pt := p.part(kind, o.name)
	out := make(chan Out, o.buffer)
	if o.ordered && o.workers > 1 {
		orderedStage(pt, in, out, o, fn)
		return out
	}
	var wg sync.WaitGroup
	for range o.workers {
		wg.Add(1)
		pt.spawn(func() {
			defer wg.Done()
			emit := func(v Out) bool { return send(p, out, v) }
			for v := range receive(p, in) {
				if err := fn(p.ctx, v, emit); err != nil {
					pt.fail(err)
					return
				}
			}
		})
	}
	pt.spawn(func() { wg.Wait(); close(out) })
	return out
}

// receive ranges over in until it is closed or p has ended. Once p has ended it yields nothing
// more, even when in holds items: the end is checked after every receive, so no user func is
// given an item after the end is decided (a select between a ready item and a closed Done picks
// either at random, so the select alone does not keep this). An item already waiting is taken
// without a select; the select on the end runs only when in is empty, so a stage blocked on an
// empty input still ends promptly.
func receive[T any](p *Pipeline, in <-chan T) func(func(T) bool) {
	return func(yield func(T) bool) {
		for {
			var v T
			var ok bool
			select {
			case v, ok = <-in:
			default:
				select {
				case v, ok = <-in:
				case <-p.done:
					return
				}
			}
			if !ok || p.ended() || !yield(v) {
				return
			}
		}
	}
}

// mustInput panics if in is nil, naming the function it was given to: a nil channel would block
// its stage forever.
func mustInput[T any](kind string, in <-chan T) {
	if in == nil {
		panic(fmt.Sprintf("pipe: %s: nil input channel of %T", kind, *new(T)))
	}
}
