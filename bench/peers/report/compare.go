package report

import (
	"regexp"
	"slices"
	"strings"
)

// CompareDesigns are the sub-benchmark names of bench.Compare, the designs it runs.
var CompareDesigns = []string{"direct", "hand", "pipe", "pool", "pool-slice", "group"}

// suites are the top-level names of the benchmarks the report has sections of its own for.
var suites = []string{"W1", "W2", "W3", "W4", "Stages", "RequestResponse", "OpenLoop", "GroupMemory", "Fairness", "WeightedShares", "ShedLoad", "Retry"}

// Suites reports whether run holds any benchmark of Stagecoach's own suites, as opposed to only
// the output of bench.Compare on someone's own stages.
func (run *Run) Suites() bool {
	return slices.ContainsFunc(run.Order, func(k Key) bool { return slices.Contains(suites, k.Workload) })
}

// compared renders a section for every benchmark of the output that ran bench.Compare, outside
// Stagecoach's own suites: BenchmarkOrders/hand is design hand of Orders, and
// BenchmarkOrders/size=100/pool design pool of Orders/size=100. Each gets the per-item table and a
// bar chart, as W1 does.
func (p *Page) compared(run *Run) string {
	var prefixes []string
	rows := map[string][]row{}
	for _, k := range run.Order {
		if slices.Contains(suites, k.Workload) {
			continue
		}
		parts := slices.DeleteFunc([]string{k.Workload, k.Impl, k.Param}, func(s string) bool { return s == "" })
		parts = strings.Split(strings.Join(parts, "/"), "/")
		design := parts[len(parts)-1]
		if len(parts) < 2 || !slices.Contains(CompareDesigns, design) {
			continue
		}
		prefix := strings.Join(parts[:len(parts)-1], "/")
		if _, ok := rows[prefix]; !ok {
			prefixes = append(prefixes, prefix)
		}
		rows[prefix] = append(rows[prefix], row{impl: design, key: k})
	}
	var b strings.Builder
	for _, prefix := range prefixes {
		b.WriteString(p.bars(run, prefix, "bench.Compare on "+prefix+": every design on the same stages, every result checked against direct calls",
			ChartName(prefix), rows[prefix]))
	}
	return b.String()
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// ChartName is the file name of the chart of the bench.Compare benchmark named prefix.
func ChartName(prefix string) string {
	return "compare-" + strings.Trim(unsafeName.ReplaceAllString(prefix, "-"), "-") + ".svg"
}
