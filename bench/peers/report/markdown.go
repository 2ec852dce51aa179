package report

import (
	"fmt"
	"slices"
	"strings"
)

// Ours lists Stagecoach's implementations; the rest are the baseline (direct) and the peers.
var Ours = []string{"pipe", "pool", "group"}

// Env describes where and how the numbers were taken.
type Env struct {
	CPU, GoVersion, OSArch, Command string
	Procs                           int
}

// Page is the generated report: the markdown and the charts it links, by file name.
type Page struct {
	Markdown string
	Charts   map[string]string
}

// Workloads of the report, in order, with what each measures.
var Workloads = []struct{ Name, What string }{
	{"W1", "1M items through 4 trivial stages: the per-item overhead of a design"},
	{"W2", "100k items through 4 stages of about 2 us of CPU each: how well a design uses the cores"},
	{"W3", "64 streams of 10k items, 4 trivial stages, every stream checking it got exactly its own results"},
}

// Build renders the report of run.
func Build(run *Run, env Env, preface string) Page {
	p := Page{Charts: map[string]string{}}
	var b strings.Builder
	b.WriteString(preface)
	fmt.Fprintf(&b, "\n## How these numbers were taken\n\n- Machine: %s, GOMAXPROCS %d, %s\n- Go: %s\n- Command: `%s`\n",
		env.CPU, env.Procs, env.OSArch, env.GoVersion, env.Command)
	b.WriteString("- Every run of every implementation is checked item by item (each item back exactly once, on its own stream, with the right value) before and while its time counts.\n")
	b.WriteString("- Values are medians over the -count runs; ± is the largest distance of a run from the median. The machine is small and noisy: read ratios, not absolute times.\n")
	for _, w := range Workloads {
		b.WriteString(p.workload(run, w.Name, w.What))
	}
	b.WriteString(p.stages(run))
	b.WriteString(fairness(run))
	p.Markdown = b.String()
	return p
}

// workload renders one workload's table and bar chart.
func (p *Page) workload(run *Run, name, what string) string {
	impls := run.Impls(name)
	if len(impls) == 0 {
		return ""
	}
	direct, _ := run.Stat(Key{Workload: name, Impl: "direct"}, "ns/item")
	var b strings.Builder
	fmt.Fprintf(&b, "\n## %s\n\n%s.\n\n![%s](charts/%s.svg)\n\n", name, what, name, name)
	b.WriteString("| implementation | ns/item | ± | B/item | allocs/item | × direct |\n|---|---:|---:|---:|---:|---:|\n")
	var bars []Bar
	for _, impl := range impls {
		k := Key{Workload: name, Impl: impl}
		ns, _ := run.Stat(k, "ns/item")
		by, _ := run.Stat(k, "B/item")
		al, _ := run.Stat(k, "allocs/item")
		fmt.Fprintf(&b, "| %s | %s | %.0f%% | %s | %s | %s |\n", label(impl), formatValue(ns.Median), 100*ns.Spread,
			formatValue(by.Median), formatAllocs(al.Median), ratio(ns.Median, direct.Median))
		bars = append(bars, Bar{Label: impl, Value: ns.Median, Ours: slices.Contains(Ours, impl)})
	}
	b.WriteString(winner(name, bars))
	p.Charts[name+".svg"] = BarChart(name+": ns per item (shorter is better)", "ns/item", bars)
	return b.String()
}

// winner says which implementation other than direct was fastest, and whether it is ours.
func winner(name string, bars []Bar) string {
	best := Bar{Value: -1}
	for _, b := range bars {
		if b.Label != "direct" && (best.Value < 0 || b.Value < best.Value) {
			best = b
		}
	}
	if best.Value < 0 {
		return ""
	}
	if best.Ours {
		return fmt.Sprintf("\nFastest after direct calls: **%s** (Stagecoach).\n", best.Label)
	}
	return fmt.Sprintf("\nFastest after direct calls: **%s**, a peer: Stagecoach does not win %s in this run.\n", best.Label, name)
}

// stages renders the stage-count table and line chart.
func (p *Page) stages(run *Run) string {
	impls := run.Impls("Stages")
	if len(impls) == 0 {
		return ""
	}
	xs := []string{"1", "2", "4", "8"}
	var b strings.Builder
	b.WriteString("\n## Stages\n\n100k items through 1, 2, 4 and 8 trivial stages: what a stage costs in each design.\n\n![Stages](charts/stages.svg)\n\n")
	b.WriteString("| implementation | stages=1 | stages=2 | stages=4 | stages=8 | added by 1→8 |\n|---|---:|---:|---:|---:|---:|\n")
	var series []Series
	for _, impl := range impls {
		sr := Series{Label: impl, Ours: slices.Contains(Ours, impl)}
		fmt.Fprintf(&b, "| %s |", label(impl))
		for _, x := range xs {
			st, _ := run.Stat(Key{Workload: "Stages", Impl: impl, Param: "stages=" + x}, "ns/item")
			sr.Values = append(sr.Values, st.Median)
			fmt.Fprintf(&b, " %s |", formatValue(st.Median))
		}
		fmt.Fprintf(&b, " %s |\n", formatValue(sr.Values[3]-sr.Values[0]))
		series = append(series, sr)
	}
	p.Charts["stages.svg"] = LineChart("ns per item against the number of stages", "ns/item", xs, series)
	return b.String()
}

func fairness(run *Run) string {
	impls := run.Impls("Fairness")
	if len(impls) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## Fairness\n\nThe latency of one item of a new group while another group has a backlog of 100k W2 items queued, in multiples of one item's service time (a FIFO queue would give about 50,000; the target is at most 50).\n\n| implementation | latency/service | ± |\n|---|---:|---:|\n")
	for _, impl := range impls {
		st, _ := run.Stat(Key{Workload: "Fairness", Impl: impl}, "latency/service")
		fmt.Fprintf(&b, "| %s | %s | %.0f%% |\n", label(impl), formatValue(st.Median), 100*st.Spread)
	}
	return b.String()
}

func label(impl string) string {
	if slices.Contains(Ours, impl) {
		return "**" + impl + "** (Stagecoach)"
	}
	return impl
}

func ratio(v, direct float64) string {
	if direct == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f×", v/direct)
}

func formatAllocs(v float64) string {
	if v < 0.01 {
		return fmt.Sprintf("%.4f", v)
	}
	return formatValue(v)
}
