package pool_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"

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
