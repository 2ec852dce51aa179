package report

import (
	"fmt"
	"slices"
	"strings"
)

// policies renders group's service policies: BenchmarkWeightedShares (two backlogged groups of
// weights 1 and 3, and of none), BenchmarkShedLoad (an open loop at 120% of the
// capacity, without and with MaxWait) and BenchmarkRetry (Retry against a retry that sleeps on
// the worker).
func policies(run *Run) string {
	var b strings.Builder
	if impls := run.Impls("WeightedShares"); len(impls) > 0 {
		b.WriteString("\n### Weighted groups: `group.Weight`\n\n" +
			"Two backlogged groups on one router, their items of different cost (1 to 3 and 1 or 5 units of CPU work), " +
			"with weights 1 and 3 or with none: the second group's share of the work done, counted by the work funcs, " +
			"when the first group has run all its items. The target is 0.75 within 0.05 with weights at 1 to 8 workers; " +
			"without weights, about an equal share of the service time.\n\n")
		var params []string
		for _, impl := range impls {
			for _, param := range run.Params("WeightedShares", impl) {
				if !slices.Contains(params, param) {
					params = append(params, param)
				}
			}
		}
		b.WriteString("| |")
		for _, param := range params {
			fmt.Fprintf(&b, " %s |", param)
		}
		b.WriteString("\n|---|" + strings.Repeat("---:|", len(params)) + "\n")
		for _, impl := range impls {
			fmt.Fprintf(&b, "| %s |", impl)
			for _, param := range params {
				st, ok := run.Stat(Key{Workload: "WeightedShares", Impl: impl, Param: param}, "share")
				fmt.Fprintf(&b, " %s |", orDash(ok, fmt.Sprintf("%.3f", st.Median)))
			}
			b.WriteString("\n")
		}
	}
	if impls := run.Impls("ShedLoad"); len(impls) > 0 {
		b.WriteString("\n### Shedding load: `group.MaxWait` at 120% of capacity\n\n" +
			"A router of GOMAXPROCS workers, each request 20 µs of CPU, Poisson arrivals over 64 groups at 1.2 times the " +
			"capacity measured just before (every request due at once). Without a queue-wait limit the backlog, and every " +
			"request's latency, grows for as long as the overload lasts; with `MaxWait(d)` a request not started within d " +
			"fails with `ErrExpired` unrun. Latency from submission to the result read; the target is a p99 within d plus " +
			"the service time, and at least 90% of the capacity served.\n\n" +
			"| | served / capacity | shed | p50 | p99 | p99 bound | capacity |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, impl := range impls {
			k := Key{Workload: "ShedLoad", Impl: impl}
			cell := func(unit string, f func(float64) string) string {
				st, ok := run.Stat(k, unit)
				return orDash(ok, f(st.Median))
			}
			percent := func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s/s |\n", impl,
				cell("served/capacity", FormatValue), cell("expired", percent),
				cell("p50-ns", FormatNs), cell("p99-sojourn-ns", FormatNs), cell("p99-bound-ns", FormatNs),
				cell("capacity-rps", FormatCount))
		}
	}
	if impls := run.Impls("Retry"); len(impls) > 0 {
		b.WriteString("\n### Retries that free the worker: `group.Retry`\n\n" +
			"W4's items (four stages waiting on I/O), every tenth failing its first two attempts: `retry` returns the error " +
			"marked `group.Retryable` and the group's policy re-queues the item after its backoff while the worker moves on; " +
			"`sleep` sleeps the same backoffs on its worker, as a work func without `Retry` must.\n\n" +
			"| | time an item | ± | against sleep |\n|---|---:|---:|---:|\n")
		for _, impl := range impls {
			for _, param := range run.Params("Retry", impl) {
				st, ok := run.Stat(Key{Workload: "Retry", Impl: impl, Param: param}, "ns/item")
				if !ok {
					continue
				}
				against := "-"
				if sleep, ok := run.Stat(Key{Workload: "Retry", Impl: "sleep", Param: param}, "ns/item"); ok && impl != "sleep" {
					against = fmt.Sprintf("%.2f×", st.Median/sleep.Median)
				}
				fmt.Fprintf(&b, "| %s, %s | %s | %.0f%% | %s |\n", impl, param, FormatNs(st.Median), 100*st.Spread, against)
			}
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "\n## Service policies\n" + b.String()
}
