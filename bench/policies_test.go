package bench_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench"
)

// shedService is the CPU cost of one request of BenchmarkShedLoad.
const shedService = 20 * time.Microsecond

// BenchmarkShedLoad runs a group router open-loop at 120% of its capacity, Poisson arrivals over
// 64 groups for about 300 ms (30 ms with -short), each request costing 20 us of CPU, without a
// queue-wait limit and with MaxWait of 2 ms. It reports capacity-rps (measured before, all
// requests due at once), served-rps and served/capacity (items run a second over the run, to its
// last result), expired (the fraction shed), p50-ns and p99-ns of the served items' latencies
// (from their scheduled arrival), p99-bound-ns (MaxWait plus the service time: the bound
// for the p99), and ns/item, B/item and allocs/item over every arrival.
func BenchmarkShedLoad(b *testing.B) {
	workers := runtime.GOMAXPROCS(0)
	capacity, err := bench.ShedCapacity(shedService, workers, bench.Size(testing.Short(), 20_000, 2_000))
	require.NoError(b, err)
	span := time.Duration(bench.Size(testing.Short(), 300, 30)) * time.Millisecond
	for _, maxWait := range []time.Duration{0, 2 * time.Millisecond} {
		name := "maxwait=none"
		if maxWait > 0 {
			name = fmt.Sprintf("maxwait=%v", maxWait)
		}
		b.Run(name, func(b *testing.B) {
			rate := 1.2 * capacity
			n := int(rate * span.Seconds())
			var all []time.Duration
			var served, expired, arrivals float64
			var elapsed time.Duration
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			seed := uint64(0)
			for b.Loop() {
				seed++
				run, err := bench.ShedLoad(shedService, workers, bench.Schedule(n, rate, seed), maxWait)
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, run.Served...)
				served += float64(len(run.Served))
				expired += float64(run.Expired)
				arrivals += float64(n)
				elapsed += run.Elapsed
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(capacity, "capacity-rps")
			b.ReportMetric(served/elapsed.Seconds(), "served-rps")
			b.ReportMetric(served/elapsed.Seconds()/capacity, "served/capacity")
			b.ReportMetric(expired/arrivals, "expired")
			if len(all) > 0 {
				slices.Sort(all)
				b.ReportMetric(float64(bench.Percentile(all, 0.5)), "p50-ns")
				b.ReportMetric(float64(bench.Percentile(all, 0.99)), "p99-ns")
			}
			if maxWait > 0 {
				b.ReportMetric(float64(maxWait+shedService), "p99-bound-ns")
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/arrivals, "ns/item")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/arrivals, "B/item")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/arrivals, "allocs/item")
		})
	}
}

// BenchmarkRetry runs W4's items (4 stages waiting on I/O) on a group router at concurrency 4
// (the workers are the bottleneck) and 16, every tenth item failing its first two attempts: with
// group.Retry (the worker moves on during the backoff) against a work func that sleeps the
// backoff on its worker (1 ms, then 2 ms, each with the same jitter). It reports ns/item, B/item
// and allocs/item.
func BenchmarkRetry(b *testing.B) {
	d := bench.NewDelay(bench.IOWait)
	defer d.Stop()
	w := bench.W4(testing.Short(), d)
	for _, n := range []int{4, 16} {
		for _, retry := range []bool{true, false} {
			how := "sleep"
			if retry {
				how = "retry"
			}
			b.Run(fmt.Sprintf("%s/conc=%d", how, n), func(b *testing.B) {
				bench.Measure(b, w, func(w bench.Workload) error {
					return bench.FlakyW4(w, n, time.Millisecond, retry)
				})
			})
		}
	}
}
