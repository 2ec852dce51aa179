package pool_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/pool"
)

// BenchmarkRunItemSize streams 1M items of 8 to 1,024 bytes through pool.Map with a trivial work
// func: what the feed costs an item as items grow (the producer writes each item into a chunk,
// and clears a recycled chunk before it writes into it). The work func reads an item's first
// and last words, so its bytes cross to the worker's core; the sum of the results is checked.
func BenchmarkRunItemSize(b *testing.B) {
	b.Run("bytes=8", func(b *testing.B) {
		benchItemSize(b, func(i uint64) (v [1]uint64) { v[0] = i; return v },
			func(v [1]uint64) uint64 { return v[0] })
	})
	b.Run("bytes=32", func(b *testing.B) {
		benchItemSize(b, func(i uint64) (v [4]uint64) { v[0], v[3] = i, 1; return v },
			func(v [4]uint64) uint64 { return v[0] + v[3] })
	})
	b.Run("bytes=256", func(b *testing.B) {
		benchItemSize(b, func(i uint64) (v [32]uint64) { v[0], v[31] = i, 1; return v },
			func(v [32]uint64) uint64 { return v[0] + v[31] })
	})
	b.Run("bytes=1024", func(b *testing.B) {
		benchItemSize(b, func(i uint64) (v [128]uint64) { v[0], v[127] = i, 1; return v },
			func(v [128]uint64) uint64 { return v[0] + v[127] })
	})
}

// benchItemSize streams the items item(0) to item(items-1) through pool.Map with read as the
// work func, and checks that the results add up to what read gives for every item.
func benchItemSize[T any](b *testing.B, item func(uint64) T, read func(T) uint64) {
	b.Helper()
	const items = 1 << 20
	src := func(yield func(T) bool) {
		for i := range uint64(items) {
			if !yield(item(i)) {
				return
			}
		}
	}
	var want uint64
	for i := range uint64(items) {
		want += read(item(i))
	}
	work := func(_ context.Context, v T) (uint64, error) { return read(v), nil }
	bench.MeasureItems(b, items, func() error {
		var sum uint64
		for v, err := range pool.Map(context.Background(), src, work) {
			if err != nil {
				return err
			}
			sum += v
		}
		if sum != want {
			return fmt.Errorf("results sum to %d, want %d", sum, want)
		}
		return nil
	})
}
