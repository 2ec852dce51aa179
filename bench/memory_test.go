package bench_test

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/group"
)

// BenchmarkGroupMemory opens 10,000 groups (1,000 with -short) with the default window on one
// router and leaves them idle: B/group is the heap they hold, each, from runtime.MemStats after a
// collection before and after opening them (median over the ops). ns/open-close is the time to
// open one group and close it, over as many groups again, one after the other.
func BenchmarkGroupMemory(b *testing.B) {
	n := bench.Size(testing.Short(), 10_000, 1_000)
	w := bench.W1(true)
	r := group.New[int](bench.Work(w))
	defer r.Shutdown(context.Background())
	gs := make([]*group.Group[int, bench.Item], n)
	var perGroup []float64
	var openClose time.Duration
	for b.Loop() {
		perGroup = append(perGroup, idleHeap(b, r, gs))
		openClose += openAndClose(b, r, n)
	}
	slices.Sort(perGroup)
	b.ReportMetric(perGroup[len(perGroup)/2], "B/group")
	b.ReportMetric(float64(openClose.Nanoseconds())/float64(b.N*n), "ns/open-close")
}

// idleHeap opens len(gs) groups into gs and returns the heap each holds, then closes them.
func idleHeap(b *testing.B, r *group.Router[int, bench.Item], gs []*group.Group[int, bench.Item]) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range gs {
		g, err := r.Open(context.Background(), i)
		if err != nil {
			b.Fatal(err)
		}
		gs[i] = g
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := r.Len(); got != len(gs) {
		b.Fatalf("%d groups open, want %d", got, len(gs))
	}
	for i, g := range gs {
		g.Close()
		gs[i] = nil
	}
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(len(gs))
}

// openAndClose opens and closes n groups one after the other and returns the time it took.
func openAndClose(b *testing.B, r *group.Router[int, bench.Item], n int) time.Duration {
	start := time.Now()
	for i := range n {
		g, err := r.Open(context.Background(), i)
		if err != nil {
			b.Fatal(err)
		}
		g.Close()
	}
	return time.Since(start)
}
