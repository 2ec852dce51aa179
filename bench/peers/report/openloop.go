package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// openLoop renders the open-loop benchmark: latency against load, a table and a chart for p50,
// p99 and p99.9, and the loads a design did not reach.
func (p *Page) openLoop(run *Run) string {
	impls := run.Impls("OpenLoop")
	loads := paramValues(run, "OpenLoop", "load")
	if len(impls) == 0 || len(loads) == 0 {
		return ""
	}
	xs := make([]string, len(loads))
	for i, l := range loads {
		xs[i] = strconv.Itoa(l) + "%"
	}
	var b strings.Builder
	b.WriteString("\n## Open loop\n\nRequests arrive on a fixed schedule, a Poisson process, over 64 connections, at 25, 50, 75 and 90% " +
		"of the capacity each design showed just before (every request of a run due at once, the same connections, the same " +
		"load generator); a connection makes one call at a time, in arrival order. A request's latency runs from when it was " +
		"due to its result, so the time it waited behind a slow request counts (no coordinated omission), as wrk2 and " +
		"HdrHistogram measure it. A load a design did not keep up with (results coming out at less than 95% of the arrival " +
		"rate) is reported as the rate it achieved, not as latencies: those would only say how long the run lasted. " +
		"The load generator is one goroutine of the same process on a thread of its own; on a 2-core machine its wake-ups " +
		"cost the designs some of the CPU their capacity was measured with.\n\n" +
		"![Open loop p50](charts/openloop-p50.svg)\n![Open loop p99](charts/openloop-p99.svg)\n![Open loop p99.9](charts/openloop-p999.svg)\n\n" +
		"| load | implementation | capacity/s | target/s | achieved/s | p50 | p99 | p99.9 |\n|---:|---|---:|---:|---:|---:|---:|---:|\n")
	units := []string{"p50-ns", "p99-ns", "p99.9-ns"}
	series := make([][]Series, len(units))
	for u := range units {
		for _, impl := range impls {
			series[u] = append(series[u], Series{Label: impl, Ours: slices.Contains(Ours, impl)})
		}
	}
	var best []string
	p99s := map[Key]float64{} // the p99 of the loads reached, in ns
	for i, l := range loads {
		bestImpl, bestP99 := "", 0.0
		for j, impl := range impls {
			k := Key{Workload: "OpenLoop", Impl: impl, Param: "load=" + strconv.Itoa(l)}
			capa, okCap := run.Stat(k, "capacity-rps")
			target, okTarget := run.Stat(k, "target-rps")
			rps, okRps := run.Stat(k, "rps")
			p99, ok99 := run.Stat(k, "p99-ns")
			for u := range units {
				series[u][j].Values = append(series[u][j].Values, math.NaN())
			}
			if !okCap && !okTarget && !okRps {
				continue
			}
			cells := []string{orDash(okCap, FormatCount(capa.Median)), orDash(okTarget, FormatCount(target.Median)), orDash(okRps, FormatCount(rps.Median))}
			// Latencies count only if most runs reached the target: a run that did not reports none.
			if ok99 && 2*p99.N > rps.N {
				for u, unit := range units {
					st, ok := run.Stat(k, unit)
					cells = append(cells, orDash(ok, FormatNs(st.Median)))
					if ok {
						series[u][j].Values[i] = st.Median / 1000
					}
				}
				p99s[k] = p99.Median
				if impl != "direct" && (bestImpl == "" || p99.Median < bestP99) {
					bestImpl, bestP99 = impl, p99.Median
				}
				if p99.N < rps.N {
					cells[len(cells)-1] += fmt.Sprintf(" (%d of %d runs reached)", p99.N, rps.N)
				}
			} else {
				reached := 0
				if ok99 {
					reached = p99.N
				}
				cells = append(cells, fmt.Sprintf("not reached (%d of %d runs)", reached, rps.N), "", "")
			}
			fmt.Fprintf(&b, "| %d%% | %s | %s |\n", l, label(impl), strings.Join(cells, " | "))
		}
		if bestImpl != "" {
			best = append(best, fmt.Sprintf("%s at %s", label(bestImpl), xs[i]))
		}
	}
	if len(best) > 0 {
		fmt.Fprintf(&b, "\nLowest p99 by load: %s.\n", strings.Join(best, "; "))
	}
	b.WriteString(groupAgainstPeers(impls, loads, p99s))
	titles := []string{"median", "99th percentile", "99.9th percentile"}
	files := []string{"openloop-p50.svg", "openloop-p99.svg", "openloop-p999.svg"}
	for u := range units {
		p.Charts[files[u]] = LineChart("Open loop: "+titles[u]+" latency by load (lower is better)", "load, % of the design's capacity",
			"µs from arrival to result, "+strings.TrimSuffix(units[u], "-ns"), xs, series[u])
	}
	return b.String()
}

// NotPeers are the implementations of the open-loop benchmark that are not peer libraries:
// Stagecoach's, the baselines, and the designs written by hand.
var NotPeers = []string{"direct", "hand", "promise", "goroutine"}

// groupAgainstPeers states, at 50% and 90% load, whether group's p99 is at or below every peer's.
func groupAgainstPeers(impls []string, loads []int, p99s map[Key]float64) string {
	var peers []string
	for _, impl := range impls {
		if !slices.Contains(Ours, impl) && !slices.Contains(NotPeers, impl) {
			peers = append(peers, impl)
		}
	}
	if !slices.Contains(impls, "group") || len(peers) == 0 {
		return ""
	}
	var b strings.Builder
	for _, l := range []int{50, 90} {
		if !slices.Contains(loads, l) {
			continue
		}
		at := func(impl string) (float64, bool) {
			v, ok := p99s[Key{Workload: "OpenLoop", Impl: impl, Param: "load=" + strconv.Itoa(l)}]
			return v, ok
		}
		g, ok := at("group")
		if !ok {
			fmt.Fprintf(&b, "\nAt %d%% load, `group` did not reach the rate: no p99 to compare with the peers'.\n", l)
			continue
		}
		var above []string
		for _, peer := range peers {
			if v, ok := at(peer); ok && v < g {
				above = append(above, fmt.Sprintf("%s (%s)", peer, FormatNs(v)))
			}
		}
		if len(above) == 0 {
			fmt.Fprintf(&b, "\nAt %d%% load, `group`'s p99 (%s) is at or below every peer's that reached the rate.\n", l, FormatNs(g))
		} else {
			fmt.Fprintf(&b, "\nAt %d%% load, `group`'s p99 (%s) is above %s.\n", l, FormatNs(g), strings.Join(above, ", "))
		}
	}
	return b.String()
}
