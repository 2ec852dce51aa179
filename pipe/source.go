package pipe

import (
	"context"
	"iter"
	"slices"
)

// From returns a channel of the given values, in order. It returns at once; the goroutine that
// sends them belongs to p.
func From[T any](p *Pipeline, values ...T) <-chan T {
	return fromSeq(p.part("From", ""), slices.Values(values))
}

// FromSlice returns a channel of the elements of s, in order. s must not change until the
// pipeline has ended.
func FromSlice[S ~[]E, E any](p *Pipeline, s S) <-chan E {
	return fromSeq(p.part("FromSlice", ""), slices.Values(s))
}

// FromSeq returns a channel of the values of seq, in order. seq runs on a goroutine of p and is
// stopped at its next yield once p has ended; a seq that can block for long should watch
// [Pipeline.Context]. A panic in seq fails the pipeline with a *[PanicError]. FromSeq panics if
// seq is nil.
func FromSeq[T any](p *Pipeline, seq iter.Seq[T]) <-chan T {
	if seq == nil {
		panic("pipe: FromSeq: nil sequence")
	}
	return fromSeq(p.part("FromSeq", ""), seq)
}

func fromSeq[T any](pt *part, seq iter.Seq[T]) <-chan T {
	out := make(chan T, DefaultBuffer)
	pt.spawn(func() {
		defer close(out)
		for v := range seq {
			if !send(pt.p, out, v) {
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
	pt := p.part("FromSeq2", "")
	out := make(chan T, DefaultBuffer)
	pt.spawn(func() {
		defer close(out)
		for v, err := range seq {
			if err != nil {
				pt.fail(err)
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
// emit reports false once the pipeline has ended, and gen should then return. An error gen
// returns fails the pipeline. Generate panics if gen is nil.
func Generate[T any](p *Pipeline, gen func(ctx context.Context, emit func(T) bool) error) <-chan T {
	if gen == nil {
		panic("pipe: Generate: nil func")
	}
	pt := p.part("Generate", "")
	out := make(chan T, DefaultBuffer)
	pt.spawn(func() {
		defer close(out)
		if err := gen(p.ctx, func(v T) bool { return send(p, out, v) }); err != nil {
			pt.fail(err)
		}
	})
	return out
}
