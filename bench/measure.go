package bench

import (
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
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		if err := run(w); err != nil {
			b.Fatalf("%s: %v", w.Name, err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	items := float64(b.N) * float64(w.Total())
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/items, "ns/item")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/items, "B/item")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/items, "allocs/item")
}
