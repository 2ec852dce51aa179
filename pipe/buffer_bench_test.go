package pipe_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/pipe"
)

// BenchmarkBuffer measures four trivial Map stages at several channel buffer sizes: the
// measurement behind DefaultBuffer. Like bench.Measure, it checks every run (the sum of the
// outputs, computed here without the pipeline) and reports ns/item, B/item and allocs/item.
func BenchmarkBuffer(b *testing.B) {
	const items = 50_000
	const stages = 4
	inc := func(_ context.Context, v int) (int, error) { return v + 1, nil }
	want := 0
	for i := range items {
		want += i + stages
	}
	for _, size := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("buffer=%d", size), func(b *testing.B) {
			run := func() (int, error) {
				p := pipe.New(context.Background())
				ch := pipe.Generate(p, func(_ context.Context, emit func(int) bool) error {
					for i := 0; i < items && emit(i); i++ {
					}
					return nil
				})
				for range stages {
					ch = pipe.Map(p, ch, inc, pipe.Buffer(size))
				}
				return pipe.Reduce(p, ch, 0, func(acc, v int) int { return acc + v })
			}
			bench.MeasureItems(b, items, func() error {
				if sum, err := run(); err != nil || sum != want {
					return fmt.Errorf("sum %d, error %v; want sum %d, no error", sum, err, want)
				}
				return nil
			})
		})
	}
}

// BenchmarkOrdered measures ordered stages with several workers: two Map stages of two workers
// each, and a FlatMap of two workers that emits each item four times; the path of an item through
// the window, its slot and the collector.
func BenchmarkOrdered(b *testing.B) {
	const items = 50_000
	inc := func(_ context.Context, v int) (int, error) { return v + 1, nil }
	four := func(_ context.Context, v int, emit func(int) bool) error {
		for range 4 {
			if !emit(v) {
				break
			}
		}
		return nil
	}
	b.Run("map", func(b *testing.B) {
		bench.MeasureItems(b, items, func() error {
			p := pipe.New(context.Background())
			ch := pipe.FromSlice(p, seq(items))
			for range 2 {
				ch = pipe.Map(p, ch, inc, pipe.Workers(2), pipe.Ordered())
			}
			return checkSeq(p, ch, items, 1, 2)
		})
	})
	b.Run("flatmap", func(b *testing.B) {
		bench.MeasureItems(b, items, func() error {
			p := pipe.New(context.Background())
			ch := pipe.FlatMap(p, pipe.FromSlice(p, seq(items)), four, pipe.Workers(2), pipe.Ordered())
			return checkSeq(p, ch, items, 4, 0)
		})
	})
}

// seq returns 0..n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// checkSeq reads ch to its end and checks that it is 0+add, 1+add, ... each value repeated times.
func checkSeq(p *pipe.Pipeline, ch <-chan int, items, repeated, add int) error {
	i := 0
	err := pipe.ForEach(p, ch, func(_ context.Context, v int) error {
		if want := i/repeated + add; v != want {
			return fmt.Errorf("output %d is %d, want %d", i, v, want)
		}
		i++
		return nil
	})
	if err == nil && i != items*repeated {
		err = fmt.Errorf("%d outputs, want %d", i, items*repeated)
	}
	return err
}
