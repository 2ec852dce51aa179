package pipe

import (
	"context"
	"iter"
)

// From returns a channel of the given values, in order. It returns at once; the goroutine that
// sends them belongs to p.
func From[T any](p *Pipeline, values ...T) <-chan T {
	return FromSlice(p, values)
}

// FromSlice returns a channel of the elements of s, in order. s must not change until the
// pipeline has ended.
func FromSlice[S ~[]E, E any](p *Pipeline, s S) <-chan E {
	return FromSeq(p, func(yield func(E) bool) {
		for _, v := range s {
			if !yield(v) {
				return
			}
		}
	})
}

// FromSeq returns a channel of the values of seq, in order. seq runs on a goroutine of p and is
// stopped at its next yield once p is cancelled; a seq that can block for long should watch
// [Pipeline.Context]. FromSeq panics if seq is nil.
func FromSeq[T any](p *Pipeline, seq iter.Seq[T]) <-chan T {
	if seq == nil {
		panic("pipe: FromSeq: nil sequence")
	}
	out := make(chan T, DefaultBuffer)
	p.spawn(func() {
		defer close(out)
		for v := range seq {
			if !send(p, out, v) {
				return
			}
		}
	})
	return out
}

// FromSeq2 returns a channel of the values of seq, in order; the first non-nil error seq yields
// fails the pipeline. FromSeq2 panics if seq is nil.
func FromSeq2[T any](p *Pipeline, seq iter.Seq2[T, error]) <-chan T {
	if seq == nil {
		panic("pipe: FromSeq2: nil sequence")
	}
	out := make(chan T, DefaultBuffer)
	p.spawn(func() {
		defer close(out)
		for v, err := range seq {
			if err != nil {
				p.fail(err)
				return
			}
			if !send(p, out, v) {
				return
			}
		}
	})
	return out
}

// Generate returns a channel of what gen emits. gen runs on a goroutine of p with p's context;
// emit reports false once the pipeline is cancelled, and gen should then return. An error gen
// returns fails the pipeline. Generate panics if gen is nil.
func Generate[T any](p *Pipeline, gen func(ctx context.Context, emit func(T) bool) error) <-chan T {
	if gen == nil {
		panic("pipe: Generate: nil func")
	}
	out := make(chan T, DefaultBuffer)
	p.spawn(func() {
		defer close(out)
		if err := gen(p.ctx, func(v T) bool { return send(p, out, v) }); err != nil {
			p.fail(err)
		}
	})
	return out
}
