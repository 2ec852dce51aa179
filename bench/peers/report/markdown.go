package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Ours lists Stagecoach's implementations; the rest are the baseline (direct) and the peers.
var Ours = []string{"pipe", "pool", "pool-slice", "group", "group-batch"}

// Env describes where and how the numbers were taken.
type Env struct {
	CPU, GoVersion, OSArch, Command string
	Procs                           int
}

// Configuration keys the report command writes at the top of the raw output, so that a page
// rebuilt from that file alone says how its numbers were taken.
const (
	ConfigGoVersion = "goversion"
	ConfigCommand   = "report-command"
)

// EnvOf reads the environment of run from its configuration lines and benchmark names; what the
// output does not record reads "not recorded".
func EnvOf(run *Run) Env {
	get := func(key string) string {
		if v := run.Config[key]; v != "" {
			return v
		}
		return "not recorded"
	}
	osArch := "not recorded"
	if run.Config["goos"] != "" {
		osArch = run.Config["goos"] + "/" + run.Config["goarch"]
	}
	return Env{CPU: get("cpu"), GoVersion: get(ConfigGoVersion), OSArch: osArch, Command: get(ConfigCommand), Procs: run.Procs}
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

// Build renders the report of run. Sections whose benchmarks are not in run are left out.
func Build(run *Run, env Env, preface string) Page {
	p := Page{Charts: map[string]string{}}
	var b strings.Builder
	b.WriteString(preface)
	procs := "not recorded"
	if env.Procs > 0 {
		procs = strconv.Itoa(env.Procs)
	}
	fmt.Fprintf(&b, "\n## How these numbers were taken\n\n- Machine: %s, GOMAXPROCS %s, %s\n- Go: %s\n- Command: `%s`\n",
		env.CPU, procs, env.OSArch, env.GoVersion, env.Command)
	b.WriteString("- Every run of every implementation is checked item by item (each item back exactly once, on its own stream, with the right value) before and while its time counts.\n")
	b.WriteString("- Values are medians over the -count runs; ± is the largest distance of a run from the median. The machine is small and noisy: read ratios, not absolute times.\n")
	for _, w := range Workloads {
		b.WriteString(p.workload(run, w.Name, w.What))
	}
	b.WriteString(p.stages(run))
	b.WriteString(p.w4(run))
	b.WriteString(p.requestResponse(run))
	b.WriteString(p.openLoop(run))
	b.WriteString(memory(run))
	b.WriteString(fairness(run))
	b.WriteString(policies(run))
	b.WriteString(p.compared(run))
	p.Markdown = b.String()
	return p
}

// workload renders one workload's table and bar chart.
func (p *Page) workload(run *Run, name, what string) string {
	var rows []row
	for _, impl := range run.Impls(name) {
		rows = append(rows, row{impl: impl, key: Key{Workload: name, Impl: impl}})
	}
	return p.bars(run, name, what, name+".svg", rows)
}

// row is one line of a per-item table: an implementation and the benchmark that measured it.
type row struct {
	impl string
	key  Key
}

// bars renders a table of ns/item, B/item and allocs/item with one row an implementation, and its
// bar chart, written to chart; title is the section's title, what its first sentence.
func (p *Page) bars(run *Run, title, what, chart string, rows []row) string {
	if len(rows) == 0 {
		return ""
	}
	var direct Stat
	for _, r := range rows {
		if r.impl == "direct" {
			direct, _ = run.Stat(r.key, "ns/item")
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n## %s\n\n%s.\n\n![%s](charts/%s)\n\n", title, what, title, chart)
	b.WriteString("| implementation | ns/item | ± | B/item | allocs/item | × direct |\n|---|---:|---:|---:|---:|---:|\n")
	var bars []Bar
	ns := map[string]float64{}
	for _, r := range rows {
		st, _ := run.Stat(r.key, "ns/item")
		by, _ := run.Stat(r.key, "B/item")
		al, _ := run.Stat(r.key, "allocs/item")
		fmt.Fprintf(&b, "| %s | %s | %.0f%% | %s | %s | %s |\n", label(r.impl), FormatValue(st.Median), 100*st.Spread,
			FormatValue(by.Median), formatAllocs(al.Median), ratio(st.Median, direct.Median))
		bars = append(bars, Bar{Label: r.impl, Value: st.Median, Ours: slices.Contains(Ours, r.impl)})
		ns[r.impl] = st.Median
	}
	b.WriteString(winner(title, bars))
	b.WriteString(againstHand(ns))
	p.Charts[chart] = BarChart(title+": ns per item (shorter is better)", "ns per item", bars)
	return b.String()
}

// againstHand states pipe's time over the pipeline by hand's, when both ran: the channel-per-stage
// design against its reference.
func againstHand(ns map[string]float64) string {
	pipe, okPipe := ns["pipe"]
	hand, okHand := ns["hand"]
	if !okPipe || !okHand || hand <= 0 {
		return ""
	}
	return fmt.Sprintf("\n`pipe` / `hand` (the same pipeline by hand): %.2f×.\n", pipe/hand)
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
	added := map[string]float64{}
	for _, impl := range impls {
		sr := Series{Label: impl, Ours: slices.Contains(Ours, impl)}
		fmt.Fprintf(&b, "| %s |", label(impl))
		for _, x := range xs {
			st, _ := run.Stat(Key{Workload: "Stages", Impl: impl, Param: "stages=" + x}, "ns/item")
			sr.Values = append(sr.Values, st.Median)
			fmt.Fprintf(&b, " %s |", FormatValue(st.Median))
		}
		added[impl] = sr.Values[3] - sr.Values[0]
		fmt.Fprintf(&b, " %s |\n", FormatValue(added[impl]))
		series = append(series, sr)
	}
	if ratios := stagesAgainstHand(run, xs); ratios != "" {
		b.WriteString(ratios)
	}
	b.WriteString("\nIn `hand`, `pipe` and rill every stage is its own goroutine, so a stage adds a channel hand-over per item. " +
		"In `pool`, `group`, conc, pond and errgroup one task carries an item through all its stages, so a stage adds " +
		"a function call; what separates these designs is the fixed cost per item (the stages=1 column), not the stages. " +
		"Differences of a few ns in the last column are within the noise of this machine.\n")
	b.WriteString(fewestAdded(impls, added))
	p.Charts["stages.svg"] = LineChart("ns per item by number of stages", "number of stages", "ns per item", xs, series)
	return b.String()
}

// stagesAgainstHand states pipe's time over hand's at each stage count where both ran.
func stagesAgainstHand(run *Run, xs []string) string {
	var parts []string
	for _, x := range xs {
		pipe, ok1 := run.Stat(Key{Workload: "Stages", Impl: "pipe", Param: "stages=" + x}, "ns/item")
		hand, ok2 := run.Stat(Key{Workload: "Stages", Impl: "hand", Param: "stages=" + x}, "ns/item")
		if ok1 && ok2 && hand.Median > 0 {
			parts = append(parts, fmt.Sprintf("%.2f× at %s", pipe.Median/hand.Median, x))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "\n`pipe` / `hand` (the same pipeline by hand), by stage count: " + strings.Join(parts, ", ") + ".\n"
}

// fewestAdded names the implementation other than direct whose items got the least dearer from 1
// to 8 stages, and says whether it is ours.
func fewestAdded(impls []string, added map[string]float64) string {
	best := ""
	for _, impl := range impls {
		if impl != "direct" && (best == "" || added[impl] < added[best]) {
			best = impl
		}
	}
	if best == "" {
		return ""
	}
	if slices.Contains(Ours, best) {
		return fmt.Sprintf("\nLeast added by 8 stages: **%s** (Stagecoach).\n", best)
	}
	return fmt.Sprintf("\nLeast added by 8 stages: **%s**, a peer.\n", best)
}

// paramValues returns the values of the parameter named name (clients, conc) that workload ran
// with for any implementation, in increasing order.
func paramValues(run *Run, workload, name string) []int {
	var vs []int
	for _, k := range run.Order {
		v, ok := strings.CutPrefix(k.Param, name+"=")
		if k.Workload != workload || !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err == nil && !slices.Contains(vs, n) {
			vs = append(vs, n)
		}
	}
	slices.Sort(vs)
	return vs
}

// w4 renders the I/O-bound workload: time per item by concurrency, against the ideal.
func (p *Page) w4(run *Run) string {
	impls := run.Impls("W4")
	concs := paramValues(run, "W4", "conc")
	if len(impls) == 0 || len(concs) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## W4\n\n20k items through 4 stages that each wait about 100 us without using the CPU, as a call to a " +
		"database or a remote service does: what matters is how many items are in flight, not the cores. " +
		"The ideal time an item is 4 x one wait / concurrency, with the wait measured before the run (about 100 us, longer on a loaded machine); × ideal is the measured time over that, so 1.0× means the waits overlap perfectly.\n\n")
	b.WriteString("![W4](charts/W4.svg)\n\n| implementation |")
	for _, c := range concs {
		fmt.Fprintf(&b, " conc=%d: ns/item | × ideal |", c)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|---:|", len(concs)) + "\n")
	xs := make([]string, len(concs))
	for i, c := range concs {
		xs[i] = strconv.Itoa(c)
	}
	var series []Series
	ideal := make([][]float64, len(concs))
	for _, impl := range impls {
		sr := Series{Label: impl, Ours: slices.Contains(Ours, impl)}
		fmt.Fprintf(&b, "| %s |", label(impl))
		for i, c := range concs {
			k := Key{Workload: "W4", Impl: impl, Param: "conc=" + strconv.Itoa(c)}
			ns, okNs := run.Stat(k, "ns/item")
			xi, okXi := run.Stat(k, "x-ideal")
			sr.Values = append(sr.Values, ns.Median)
			fmt.Fprintf(&b, " %s | %s |", orDash(okNs, FormatValue(ns.Median)), orDash(okXi, fmt.Sprintf("%.2f×", xi.Median)))
			if okNs && okXi && xi.Median > 0 {
				ideal[i] = append(ideal[i], ns.Median/xi.Median)
			}
		}
		b.WriteString("\n")
		series = append(series, sr)
	}
	if ref, ok := medians(ideal); ok {
		series = append(series, Series{Label: "ideal", Values: ref, Dashed: true})
	}
	p.Charts["W4.svg"] = LineChart("W4: ns per item by concurrency (lower is better)", "items in flight (concurrency)", "ns per item", xs, series)
	return b.String()
}

// medians returns the median of each column, ok only if every column has a value.
func medians(cols [][]float64) ([]float64, bool) {
	out := make([]float64, len(cols))
	for i, c := range cols {
		if len(c) == 0 {
			return nil, false
		}
		out[i] = median(c)
	}
	return out, true
}

func median(vs []float64) float64 {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	if len(vs)%2 == 0 {
		return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return vs[len(vs)/2]
}

// requestResponse renders the round-trip latencies by client count, with a chart for p50 and
// one for p99.
func (p *Page) requestResponse(run *Run) string {
	impls := run.Impls("RequestResponse")
	clients := paramValues(run, "RequestResponse", "clients")
	if len(impls) == 0 || len(clients) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## Request/response\n\nC clients share one instance; each submits one item and waits for its result before " +
		"submitting the next, as an HTTP handler does. Latency is one round trip, from submit to result.\n\n" +
		"![Request/response p50](charts/requestresponse-p50.svg)\n![Request/response p99](charts/requestresponse-p99.svg)\n\n" +
		"| clients | implementation | p50 | p99 | round trips/s |\n|---:|---|---:|---:|---:|\n")
	xs := make([]string, len(clients))
	for i, c := range clients {
		xs[i] = strconv.Itoa(c)
	}
	var p50s, p99s []Series
	for _, impl := range impls {
		p50s = append(p50s, Series{Label: impl, Ours: slices.Contains(Ours, impl)})
		p99s = append(p99s, Series{Label: impl, Ours: slices.Contains(Ours, impl)})
	}
	var best []string
	for i, c := range clients {
		bestImpl, bestP99 := "", 0.0
		for j, impl := range impls {
			k := Key{Workload: "RequestResponse", Impl: impl, Param: "clients=" + xs[i]}
			p50, ok50 := run.Stat(k, "p50-ns")
			p99, ok99 := run.Stat(k, "p99-ns")
			rt, okRt := run.Stat(k, "rt/s")
			p50s[j].Values = append(p50s[j].Values, p50.Median/1000)
			p99s[j].Values = append(p99s[j].Values, p99.Median/1000)
			if !ok50 && !ok99 && !okRt {
				continue
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", c, label(impl), orDash(ok50, FormatNs(p50.Median)),
				orDash(ok99, FormatNs(p99.Median)), orDash(okRt, FormatCount(rt.Median)))
			if ok99 && impl != "direct" && (bestImpl == "" || p99.Median < bestP99) {
				bestImpl, bestP99 = impl, p99.Median
			}
		}
		if bestImpl != "" {
			best = append(best, fmt.Sprintf("%s at %d", label(bestImpl), c))
		}
	}
	if len(best) > 0 {
		fmt.Fprintf(&b, "\nLowest p99 after direct calls, by client count: %s.\n", strings.Join(best, "; "))
	}
	p.Charts["requestresponse-p50.svg"] = LineChart("Request/response: median round trip (lower is better)", "clients", "µs per round trip, p50", xs, p50s)
	p.Charts["requestresponse-p99.svg"] = LineChart("Request/response: 99th percentile round trip (lower is better)", "clients", "µs per round trip, p99", xs, p99s)
	return b.String()
}

// memory renders the heap an open group holds.
func memory(run *Run) string {
	var rows []string
	for _, k := range run.Order {
		if k.Workload != "GroupMemory" {
			continue
		}
		st, ok := run.Stat(k, "B/group")
		if !ok {
			continue
		}
		name := strings.Trim(k.Impl+"/"+k.Param, "/")
		what := "an open idle group"
		if name != "" {
			what += " (" + name + ")"
		}
		rows = append(rows, fmt.Sprintf("| heap held by %s | %s B | %.0f%% |\n", what, FormatCount(st.Median), 100*st.Spread))
	}
	if len(rows) == 0 {
		return ""
	}
	return "\n## Memory\n\nWhat one open `group` costs while it waits for work: a server that keeps a group per connection pays this for every idle connection.\n\n" +
		"| | bytes | ± |\n|---|---:|---:|\n" + strings.Join(rows, "")
}

func fairness(run *Run) string {
	impls := run.Impls("Fairness")
	if len(impls) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## Fairness\n\nHow long one item of a newly opened group waits while another group has a backlog of 100k W2 items " +
		"queued, in multiples of the time one item takes to run. A first-in-first-out queue would make it wait for the whole " +
		"backlog, about 50,000; a value near 1 means the new group's item starts almost at once.\n\n" +
		"| implementation | latency/service | ± |\n|---|---:|---:|\n")
	for _, impl := range impls {
		st, _ := run.Stat(Key{Workload: "Fairness", Impl: impl}, "latency/service")
		fmt.Fprintf(&b, "| %s | %s | %.0f%% |\n", label(impl), FormatValue(st.Median), 100*st.Spread)
	}
	return b.String()
}

func label(impl string) string {
	if slices.Contains(Ours, impl) {
		return "**" + impl + "** (Stagecoach)"
	}
	return impl
}

func orDash(ok bool, s string) string {
	if !ok {
		return "-"
	}
	return s
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
	return FormatValue(v)
}

// FormatNs prints a duration given in ns with a unit that keeps three significant figures:
// 850 ns, 40.1 µs, 1.23 ms.
func FormatNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return FormatValue(ns/1e6) + " ms"
	case ns >= 1e3:
		return FormatValue(ns/1e3) + " µs"
	default:
		return FormatValue(ns) + " ns"
	}
}

// FormatCount prints a count rounded to a whole number with thousands separators: 12,345.
func FormatCount(v float64) string {
	neg := v < 0
	digits := strconv.FormatFloat(max(v, -v), 'f', 0, 64)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
