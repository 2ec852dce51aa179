package pool_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/pool"
)

// heapInuse returns the bytes in in-use heap spans after a collection.
func heapInuse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Streaming holds the heap flat: what the run holds does not grow with the number of items.
func TestRunHeapIsFlat(t *testing.T) {
	const items, every = 2_000_000, 250_000
	var samples []uint64
	n := 0
	for _, err := range pool.Run(context.Background(), sourceOf(items), identity) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n%every == 0 {
			samples = append(samples, heapInuse())
		}
	}
	lo, hi := samples[0], samples[0]
	for _, s := range samples {
		lo, hi = min(lo, s), max(hi, s)
	}
	assert.Less(t, hi-lo, uint64(1<<20), "heap in use varied by %d bytes over %d items", hi-lo, items)
}

// BenchmarkStreamHeap streams 10M items and reports the peak heap in use while they stream, and how
// much it grew from the first sample to the peak.
func BenchmarkStreamHeap(b *testing.B) {
	const items, every = 10_000_000, 1_000_000
	for b.Loop() {
		var first, peak uint64
		n, sum := 0, 0
		for v, err := range pool.Run(context.Background(), sourceOf(items), identity) {
			if err != nil {
				b.Fatal(err)
			}
			sum += v
			if n++; n%every == 0 {
				h := heapInuse()
				if first == 0 {
					first = h
				}
				peak = max(peak, h)
			}
		}
		if n != items || sum != items*(items-1)/2 {
			b.Fatalf("got %d results summing to %d, want %d summing to %d", n, sum, items, items*(items-1)/2)
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(peak-first)/(1<<20), "heap-growth-MiB")
	}
}

// allocated returns the bytes allocated on the heap while f runs (the least of three runs, so
// that the runtime's own allocations in between count as little as possible).
func allocated(f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// A short run with many workers (as for work that waits) costs at most 16 KiB a worker, not the
// result batches of a long run: a worker's batches grow with what it claims. The run's fixed
// cost is about one chunk of the source's items (256 of them) and 16 KiB of set-up.
func TestRunMemoryPerWorker(t *testing.T) {
	type item [256]byte
	items := make([]item, 10)
	work := func(_ context.Context, v item) (item, error) { return v, nil }
	for _, workers := range []int{1, 64, 1024, 4096} {
		for _, ordered := range []bool{false, true} {
			t.Run(fmt.Sprintf("workers=%d/ordered=%v", workers, ordered), func(t *testing.T) {
				opts := []pool.Option{pool.Workers(workers)}
				if ordered {
					opts = append(opts, pool.Ordered())
				}
				bytes := allocated(func() {
					n := 0
					for _, err := range pool.Run(context.Background(), slices.Values(items), work, opts...) {
						require.NoError(t, err)
						n++
					}
					require.Equal(t, len(items), n)
				})
				fixed := uint64(256*unsafe.Sizeof(item{}) + 16<<10)
				t.Logf("%d bytes allocated, %d a worker", bytes, bytes/uint64(workers))
				assert.LessOrEqual(t, bytes, fixed+uint64(workers)*16<<10, "bytes allocated by a run on %d workers", workers)
			})
		}
	}
}
