//go:build unix

package prometheus_test

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stagecoach-go/stagecoach/bench"
)

// measure is bench.Measure with one more figure, cpu-ns/item: the process's user and system CPU
// time an item. On a machine shared with other work, wall time an item swings with the load;
// the CPU time the run itself spends does much less, so the cost an adapter adds shows there.
func measure(b *testing.B, w bench.Workload, run bench.Run) {
	b.Helper()
	if err := run(w); err != nil {
		b.Fatalf("%s: check before timing: %v", w.Name, err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		if err := run(w); err != nil {
			b.Fatalf("%s: %v", w.Name, err)
		}
	}
	b.StopTimer()
	cpu := cpuTime(b) - cpu0
	runtime.ReadMemStats(&after)
	items := float64(b.N) * float64(w.Total())
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/items, "ns/item")
	b.ReportMetric(float64(cpu.Nanoseconds())/items, "cpu-ns/item")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/items, "B/item")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/items, "allocs/item")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
