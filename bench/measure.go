package bench

import (
	"fmt"
	"runtime"
	"testing"
)

// Run is one implementation of a workload: it processes the whole of w once and returns the first
// error a [Sink] reported (or any failure of the implementation itself).
type Run func(w Workload) error

// Measure benchmarks run over w and reports ns/item, B/item and allocs/item. Before the timer
// starts it runs the workload once and fails the benchmark if any result is wrong, so a timing is
// only ever reported for an implementation that computes every item correctly; the timed runs are
// checked too.
func Measure(b *testing.B, w Workload, run Run) {
	b.Helper()
	if err := run(w); err != nil {
		b.Fatalf("%s: check before timing: %v", w.Name, err)
	}
	MeasureItems(b, w.Total(), func() error {
		if err := run(w); err != nil {
			return fmt.Errorf("%s: %w", w.Name, err)
		}
		return nil
	})
}

// MeasureItems benchmarks run, which processes items items a call and returns an error when a
// result is wrong (failing the benchmark), and reports ns/item, B/item and allocs/item: what
// [Measure] does for a workload, for a package's own benchmarks of other work.
func MeasureItems(b *testing.B, items int, run func() error) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	runs := 0
	for b.Loop() {
		if err := run(); err != nil {
			b.Fatalf("run %d: %v", runs, err)
		}
		runs++
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(runs) * float64(items)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/item")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/item")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/item")
}
