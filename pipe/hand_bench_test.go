package pipe_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/pipe"
)

// BenchmarkHand measures package pipe against the same pipeline written by hand, in one run, on
// workloads shaped like the bench package's W1 (1M ints, 4 trivial stages), W3 (64 streams of
// 10k ints at once, 4 trivial stages) and Stages (100k ints through 1, 2, 4 and 8 trivial
// stages). The sub-benchmarks are named .../impl=hand and .../impl=pipe, so that
//
//	benchstat -col /impl results.txt
//
// prints pipe's time as a ratio of hand's. Both check every run against the sum the stage funcs
// give when called directly, and use the same buffers (DefaultBuffer) and the same stage funcs.
func BenchmarkHand(b *testing.B) {
	workloads := []struct {
		name           string
		streams, items int
		stages         int
	}{
		{"W1", 1, 1_000_000, 4},
		{"W3", 64, 10_000, 4},
		{"Stages=1", 1, 100_000, 1},
		{"Stages=2", 1, 100_000, 2},
		{"Stages=4", 1, 100_000, 4},
		{"Stages=8", 1, 100_000, 8},
	}
	impls := []struct {
		name string
		run  func(items int, stages []func(context.Context, uint64) (uint64, error)) (uint64, error)
	}{
		{"hand", handPipeline},
		{"pipe", pipePipeline},
	}
	for _, w := range workloads {
		stages := trivialStages(w.stages)
		want := directSum(w.items, stages)
		for _, impl := range impls {
			b.Run(fmt.Sprintf("%s/impl=%s", w.name, impl.name), func(b *testing.B) {
				bench.MeasureItems(b, w.streams*w.items, func() error { return runStreams(w.streams, w.items, stages, want, impl.run) })
			})
		}
	}
}

// trivialStages returns n stage funcs that each apply an affine step of their own, so a skipped,
// repeated or reordered stage changes the result.
func trivialStages(n int) []func(context.Context, uint64) (uint64, error) {
	stages := make([]func(context.Context, uint64) (uint64, error), n)
	for i := range stages {
		add := 1442695040888963407 + uint64(i)*2
		stages[i] = func(_ context.Context, v uint64) (uint64, error) { return v*6364136223846793005 + add, nil }
	}
	return stages
}

// directSum is the sum of the outputs of the stages called directly on 0..items-1.
func directSum(items int, stages []func(context.Context, uint64) (uint64, error)) uint64 {
	var sum uint64
	for i := range items {
		v := uint64(i)
		for _, s := range stages {
			v, _ = s(context.Background(), v)
		}
		sum += v
	}
	return sum
}

// runStreams runs streams pipelines at once, each of items ints, and checks each one's sum.
func runStreams(streams, items int, stages []func(context.Context, uint64) (uint64, error), want uint64,
	run func(int, []func(context.Context, uint64) (uint64, error)) (uint64, error)) error {
	if streams == 1 {
		return checkSum(run(items, stages))(want)
	}
	errs := make([]error, streams)
	var wg sync.WaitGroup
	for s := range streams {
		wg.Go(func() { errs[s] = checkSum(run(items, stages))(want) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func checkSum(got uint64, err error) func(uint64) error {
	return func(want uint64) error {
		if err != nil || got != want {
			return fmt.Errorf("sum %d, error %v; want sum %d, no error", got, err, want)
		}
		return nil
	}
}

// handPipeline is the blog's pipeline written out plainly: a goroutine a stage, channels buffered
// to DefaultBuffer, a select on the context when sending, a plain range when receiving; the
// source a goroutine sending the ints, the sink a plain range; the first error cancels the
// context with itself as the cause.
func handPipeline(items int, stages []func(context.Context, uint64) (uint64, error)) (uint64, error) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var wg sync.WaitGroup
	src := make(chan uint64, pipe.DefaultBuffer)
	wg.Go(func() {
		defer close(src)
		for i := range items {
			select {
			case src <- uint64(i):
			case <-ctx.Done():
				return
			}
		}
	})
	ch := src
	for _, fn := range stages {
		in, out := ch, make(chan uint64, pipe.DefaultBuffer)
		wg.Go(func() {
			defer close(out)
			for v := range in {
				w, err := fn(ctx, v)
				if err != nil {
					cancel(err)
					return
				}
				select {
				case out <- w:
				case <-ctx.Done():
					return
				}
			}
		})
		ch = out
	}
	var sum uint64
	for v := range ch {
		sum += v
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return sum, err
	}
	return sum, nil
}

// pipePipeline is the same pipeline built with package pipe.
func pipePipeline(items int, stages []func(context.Context, uint64) (uint64, error)) (uint64, error) {
	p := pipe.New(context.Background())
	ch := pipe.Generate(p, func(_ context.Context, emit func(uint64) bool) error {
		for i := 0; i < items && emit(uint64(i)); i++ {
		}
		return nil
	})
	for _, fn := range stages {
		ch = pipe.Map(p, ch, fn)
	}
	var sum uint64
	err := pipe.ForEach(p, ch, func(_ context.Context, v uint64) error {
		sum += v
		return nil
	})
	return sum, err
}
