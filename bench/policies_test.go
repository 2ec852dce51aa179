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

// BenchmarkShedLoad runs a group router of GOMAXPROCS workers open-loop at 120% of its capacity,
// Poisson arrivals over 64 groups for about 300 ms (30 ms with -short), each request costing
// 20 us of CPU, without a queue-wait limit and with MaxWait of 2 ms. The load generator gets a
// processor beyond the workers' for the benchmark's length (GOMAXPROCS is raised by one), and
// wakes at most once a bench.GeneratorTick. Every op measures the capacity first (the median of
// 3 runs with every request due at once: bench.ShedCapacity), right before its open-loop run, so
// that a machine whose other load changes is measured at one load for both. It reports
// capacity-rps (the mean of the ops'), served/capacity (the mean over the ops of the items run a
// second, to the run's last result, over the op's capacity), expired (the fraction shed), p50-ns
// and p99-ns of the served items' latencies (from their scheduled arrival to their result read),
// p99-start-ns (from their scheduled arrival to the start of their work func: what MaxWait
// bounds, plus the generator's lag), p99-sojourn-ns (from their submission to their result
// read: the latency without the generator's lag), p99-lag-ns (how late the generator submitted an arrival),
// p99-bound-ns (MaxWait plus the service time: the bound for the p99), and ns/item,
// B/item and allocs/item of the open-loop runs over every arrival.
func BenchmarkShedLoad(b *testing.B) {
	workers := runtime.GOMAXPROCS(0)
	probe := bench.Size(testing.Short(), 20_000, 2_000)
	span := time.Duration(bench.Size(testing.Short(), 300, 30)) * time.Millisecond
	for _, maxWait := range []time.Duration{0, 2 * time.Millisecond} {
		name := "maxwait=none"
		if maxWait > 0 {
			name = fmt.Sprintf("maxwait=%v", maxWait)
		}
		b.Run(name, func(b *testing.B) {
			// The generator's nanosleeps are shorter than the runtime's monitor tick, so the
			// processor (P) its thread holds is never handed to another thread while it sleeps:
			// with GOMAXPROCS processors it left the workers one fewer (the process used 1.7 of 2
			// cores). It gets one of its own, as a network stack is no worker's. Set here, not
			// once: the testing package resets GOMAXPROCS before each count of a benchmark.
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(workers + 1))
			var served, waited, sojourns, lags []time.Duration
			var capacity, ratio, expired, arrivals float64
			var elapsed time.Duration
			var before, after runtime.MemStats
			var bytes, mallocs uint64 // of the open-loop runs only
			ops := 0
			for b.Loop() {
				c, err := bench.ShedCapacity(shedService, workers, probe)
				require.NoError(b, err)
				rate := 1.2 * c
				n := int(rate * span.Seconds())
				ops++
				sched := bench.Schedule(n, rate, uint64(ops))
				runtime.ReadMemStats(&before)
				run, err := bench.ShedLoad(shedService, workers, sched, maxWait)
				runtime.ReadMemStats(&after)
				bytes += after.TotalAlloc - before.TotalAlloc
				mallocs += after.Mallocs - before.Mallocs
				if err != nil {
					b.Fatal(err)
				}
				served = append(served, run.Served...)
				waited = append(waited, run.Waited...)
				sojourns = append(sojourns, run.Sojourns...)
				lags = append(lags, run.Lags...)
				capacity += c
				ratio += run.ServedRate() / c
				expired += float64(run.Expired)
				arrivals += float64(n)
				elapsed += run.Elapsed
			}
			b.ReportMetric(capacity/float64(ops), "capacity-rps")
			b.ReportMetric(ratio/float64(ops), "served/capacity")
			b.ReportMetric(expired/arrivals, "expired")
			if len(served) > 0 {
				slices.Sort(served)
				slices.Sort(waited)
				slices.Sort(sojourns)
				b.ReportMetric(float64(bench.Percentile(served, 0.5)), "p50-ns")
				b.ReportMetric(float64(bench.Percentile(served, 0.99)), "p99-ns")
				b.ReportMetric(float64(bench.Percentile(waited, 0.99)), "p99-start-ns")
				b.ReportMetric(float64(bench.Percentile(sojourns, 0.99)), "p99-sojourn-ns")
			}
			slices.Sort(lags)
			b.ReportMetric(float64(bench.Percentile(lags, 0.99)), "p99-lag-ns")
			if maxWait > 0 {
				b.ReportMetric(float64(maxWait+shedService), "p99-bound-ns")
			}
			b.ReportMetric(float64(elapsed.Nanoseconds())/arrivals, "ns/item")
			b.ReportMetric(float64(bytes)/arrivals, "B/item")
			b.ReportMetric(float64(mallocs)/arrivals, "allocs/item")
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

// BenchmarkWeightedShares runs two backlogged groups of weights 1 and 3 (and, as the control,
// of no weight) on a router of 1, 2, 4 and 8 workers, their items of different cost (see
// bench.WeightedShare: 30,000 and 60,000 items, 3,000 and 6,000 with -short), and reports
// share, the weight-3 (or second) group's share of the work done when the first group finished,
// the mean over the ops: the target is 0.75 within 0.05 with weights and 0.5 without. It also
// reports ns/item over both groups' items.
func BenchmarkWeightedShares(b *testing.B) {
	items := bench.Size(testing.Short(), 30_000, 3_000)
	for _, weights := range [][2]int{{1, 3}, {0, 0}} {
		name := fmt.Sprintf("weights=%d:%d", weights[0], weights[1])
		if weights[0] == 0 {
			name = "weights=none"
		}
		for _, workers := range []int{1, 2, 4, 8} {
			b.Run(fmt.Sprintf("%s/workers=%d", name, workers), func(b *testing.B) {
				var share float64
				ops := 0
				for b.Loop() {
					s, err := bench.WeightedShare(workers, items, weights[0], weights[1])
					if err != nil {
						b.Fatal(err)
					}
					share += s
					ops++
				}
				b.ReportMetric(share/float64(ops), "share")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops*3*items), "ns/item")
			})
		}
	}
}
