package report_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench/peers/report"
)

// compareOut is the output of a user's package that called bench.Compare in two benchmarks, one
// of them inside a sub-benchmark of its own, with metrics in the order go test prints them.
const compareOut = `goos: linux
goarch: amd64
pkg: example.com/shop
cpu: Test CPU @ 1GHz
BenchmarkOrders/direct-2      	     100	    697355 ns/op	        30.00 B/item	         1.400 allocs/item	       70.00 ns/item
BenchmarkOrders/hand-2        	     100	   6267341 ns/op	        52.00 B/item	         1.434 allocs/item	       600.0 ns/item
BenchmarkOrders/pipe-2        	     100	   4853878 ns/op	        53.00 B/item	         1.452 allocs/item	       690.0 ns/item
BenchmarkOrders/pool-2        	     100	   1592975 ns/op	       162.0 B/item	         1.449 allocs/item	       160.0 ns/item
BenchmarkOrders/pool-slice-2  	     100	   1159724 ns/op	       102.0 B/item	         1.409 allocs/item	       115.0 ns/item
BenchmarkOrders/group-2       	     100	   3611297 ns/op	       217.0 B/item	         1.547 allocs/item	       360.0 ns/item
BenchmarkCart/size=10/direct-2 	     100	   1 ns/op	        1.00 B/item	         0.0100 allocs/item	       50.00 ns/item
BenchmarkCart/size=10/pool-2  	     100	   1 ns/op	        2.00 B/item	         0.0200 allocs/item	       500.0 ns/item
BenchmarkUnrelated-2          	     100	   1 ns/op
PASS
ok  	example.com/shop	3.1s
`

// Output of bench.Compare, outside Stagecoach's own suites, gets a section, a table and a bar
// chart a benchmark, with pipe against hand.
func TestBuildShowsEveryCompareBenchmark(t *testing.T) {
	run, err := report.Parse(strings.NewReader(compareOut))
	require.NoError(t, err)
	assert.False(t, run.Suites())
	page := report.Build(run, report.EnvOf(run), "# Benchmarks\n")
	md := page.Markdown
	assert.Contains(t, md, "\n## Orders\n")
	assert.Contains(t, md, "![Orders](charts/compare-Orders.svg)")
	assert.Contains(t, md, "| hand | 600 | 0% | 52.0 | 1.43 | 8.6× |")
	assert.Contains(t, md, "| **pool-slice** (Stagecoach) | 115 | 0% | 102 | 1.41 | 1.6× |")
	assert.Contains(t, md, "`pipe` / `hand` (the same pipeline by hand): 1.15×.")
	assert.Contains(t, md, "Fastest after direct calls: **pool-slice** (Stagecoach).")
	assert.Contains(t, md, "\n## Cart/size=10\n")
	assert.Contains(t, md, "| **pool** (Stagecoach) | 500 | 0% | 2.00 | 0.02 | 10.0× |")
	assert.NotContains(t, md, "Unrelated")
	for _, section := range []string{"## W1", "## Stages", "## Open loop"} {
		assert.NotContains(t, md, section)
	}
	require.Contains(t, page.Charts, "compare-Orders.svg")
	require.Contains(t, page.Charts, "compare-Cart-size-10.svg")
	checkBars(t, page.Charts["compare-Orders.svg"], map[string]float64{"direct": 70, "hand": 600, "pipe": 690, "pool": 160, "pool-slice": 115, "group": 360})
	for name, svg := range page.Charts {
		checkLayout(t, name, svg)
	}
}

// The workloads of the suites state pipe over hand: W1, W3 and every stage count.
func TestBuildStatesPipeAgainstHand(t *testing.T) {
	out := "BenchmarkW1/hand-2 1 1 ns/op 400 ns/item\nBenchmarkW1/pipe-2 1 1 ns/op 460 ns/item\n" +
		"BenchmarkStages/hand/stages=1-2 1 1 ns/op 100 ns/item\nBenchmarkStages/pipe/stages=1-2 1 1 ns/op 110 ns/item\n" +
		"BenchmarkStages/hand/stages=2-2 1 1 ns/op 200 ns/item\nBenchmarkStages/pipe/stages=2-2 1 1 ns/op 240 ns/item\n" +
		"BenchmarkStages/hand/stages=4-2 1 1 ns/op 400 ns/item\nBenchmarkStages/pipe/stages=4-2 1 1 ns/op 400 ns/item\n" +
		"BenchmarkStages/hand/stages=8-2 1 1 ns/op 800 ns/item\nBenchmarkStages/pipe/stages=8-2 1 1 ns/op 880 ns/item\n"
	run, err := report.Parse(strings.NewReader(out))
	require.NoError(t, err)
	assert.True(t, run.Suites())
	md := report.Build(run, report.EnvOf(run), "").Markdown
	assert.Contains(t, md, "`pipe` / `hand` (the same pipeline by hand): 1.15×.")
	assert.Contains(t, md, "`pipe` / `hand` (the same pipeline by hand), by stage count: 1.10× at 1, 1.20× at 2, 1.00× at 4, 1.10× at 8.")
	assert.Contains(t, md, "| hand | 100 | 200 | 400 | 800 | 700 |")
}

func TestChartNameIsAFileName(t *testing.T) {
	assert.Equal(t, "compare-Orders.svg", report.ChartName("Orders"))
	assert.Equal(t, "compare-Cart-size-10.svg", report.ChartName("Cart/size=10"))
	assert.Equal(t, "compare-a-b.svg", report.ChartName("/a b/"))
}
