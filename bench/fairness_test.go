package bench_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/group"
)

// BenchmarkFairness measures how long one item of a new group takes while another group has a
// backlog of W2 items queued (100k; 2k in short mode), as a multiple of one W2 item's service
// time on this machine: the metric latency/service. A first-in-first-out queue would give about
// the backlog divided by the workers (about 50,000); fair service gives a few.
func BenchmarkFairness(b *testing.B) {
	b.Run("group", func(b *testing.B) {
		w := bench.W2(testing.Short())
		backlog := bench.Size(testing.Short(), 100_000, 2_000)
		service := serviceTime(w)
		var ratios []float64
		for b.Loop() {
			ratios = append(ratios, float64(fairnessLatency(b, w, backlog))/float64(service))
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "latency/service")
		b.ReportMetric(float64(service.Nanoseconds()), "service-ns")
	})
}

// serviceTime is the median time one W2 item takes through the machine, called directly.
func serviceTime(w bench.Workload) time.Duration {
	work := bench.Work(w)
	times := make([]time.Duration, 101)
	for i := range times {
		start := time.Now()
		if _, err := work(context.Background(), w.Input(0, i)); err != nil {
			panic(err)
		}
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[len(times)/2]
}

// fairnessLatency queues backlog items on group A, then times one item of group B from its
// Submit to its result.
func fairnessLatency(b *testing.B, w bench.Workload, backlog int) time.Duration {
	r := group.New[string](bench.Work(w))
	defer r.Shutdown(context.Background())
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA() // reclaims A: its queued items fail at once instead of running
	a, err := r.Open(ctxA, "A", group.Window(backlog))
	if err != nil {
		b.Fatal(err)
	}
	for i := range backlog {
		if err := a.Submit(ctxA, w.Input(0, i)); err != nil {
			b.Fatal(err)
		}
	}
	g, err := r.Open(context.Background(), "B")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := g.Submit(context.Background(), w.Input(1, 0)); err != nil {
		b.Fatal(err)
	}
	g.Close()
	got := 0
	for it, err := range g.Results() {
		if err != nil || it.Val != w.Want(w.Input(1, 0)) {
			b.Fatalf("B's item: %+v, %v", it, err)
		}
		got++
	}
	took := time.Since(start)
	if got != 1 {
		b.Fatalf("B got %d results, want 1", got)
	}
	if s := a.Stats(); s.Queued == 0 {
		b.Fatalf("A's backlog was gone before B's item came back: %+v", s)
	}
	return took
}
