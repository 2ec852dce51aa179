package pool_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/stagecoach-go/stagecoach/pool"
)

// affine4 is four trivial stages called in a row, the work of W1 without a state machine.
func affine4(_ context.Context, v uint64) (uint64, error) {
	for i := range uint64(4) {
		v = v*6364136223846793005 + 1442695040888963407 + 2*i
	}
	return v, nil
}

// BenchmarkSliceOverhead compares pool.Slice with the same func called directly on GOMAXPROCS
// goroutines, each over its share of the slice: what the slice entry point costs on its own,
// without a state machine in the work func.
func BenchmarkSliceOverhead(b *testing.B) {
	const n = 1 << 20
	in := make([]uint64, n)
	for i := range in {
		in[i] = uint64(i)
	}
	want := make([]uint64, n)
	for i, v := range in {
		want[i], _ = affine4(context.Background(), v)
	}
	check := func(b *testing.B, out []uint64) {
		for i := range out {
			if out[i] != want[i] {
				b.Fatalf("item %d: got %d, want %d", i, out[i], want[i])
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		out := make([]uint64, n)
		for b.Loop() {
			procs := runtime.GOMAXPROCS(0)
			var wg sync.WaitGroup
			for p := range procs {
				wg.Go(func() {
					for i := p * n / procs; i < (p+1)*n/procs; i++ {
						out[i], _ = affine4(context.Background(), in[i])
					}
				})
			}
			wg.Wait()
		}
		check(b, out)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
	})
	b.Run("slice", func(b *testing.B) {
		var out []uint64
		for b.Loop() {
			var errs []error
			out, errs = pool.Slice(context.Background(), in, affine4)
			if errs != nil {
				b.Fatal(errs)
			}
		}
		check(b, out)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
	})
}
