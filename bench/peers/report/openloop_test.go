package report_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench/peers/report"
)

// openLoop is a synthetic output of BenchmarkOpenLoop, two runs each: group reaches every load;
// conc does not reach 90% in either run (no latencies, a reached metric), and reaches 75% in one
// run of two (not enough).
const openLoop = `cpu: Test CPU @ 1GHz
BenchmarkOpenLoop/group/load=25-2 	 1	 1 ns/op	 400000 capacity-rps	 100000 target-rps	 99000 rps	 20000 p50-ns	 90000 p99-ns	 150000 p99.9-ns
BenchmarkOpenLoop/group/load=25-2 	 1	 1 ns/op	 420000 capacity-rps	 105000 target-rps	 104000 rps	 22000 p50-ns	 110000 p99-ns	 170000 p99.9-ns
BenchmarkOpenLoop/group/load=90-2 	 1	 1 ns/op	 400000 capacity-rps	 360000 target-rps	 350000 rps	 60000 p50-ns	 900000 p99-ns	 2000000 p99.9-ns
BenchmarkOpenLoop/group/load=90-2 	 1	 1 ns/op	 400000 capacity-rps	 360000 target-rps	 350000 rps	 60000 p50-ns	 900000 p99-ns	 2000000 p99.9-ns
BenchmarkOpenLoop/conc/load=25-2 	 1	 1 ns/op	 200000 capacity-rps	 50000 target-rps	 49000 rps	 30000 p50-ns	 80000 p99-ns	 100000 p99.9-ns
BenchmarkOpenLoop/conc/load=25-2 	 1	 1 ns/op	 200000 capacity-rps	 50000 target-rps	 49000 rps	 30000 p50-ns	 80000 p99-ns	 100000 p99.9-ns
BenchmarkOpenLoop/conc/load=75-2 	 1	 1 ns/op	 200000 capacity-rps	 150000 target-rps	 148000 rps	 40000 p50-ns	 400000 p99-ns	 500000 p99.9-ns
BenchmarkOpenLoop/conc/load=75-2 	 1	 1 ns/op	 200000 capacity-rps	 150000 target-rps	 100000 rps	 0 reached
BenchmarkOpenLoop/conc/load=90-2 	 1	 1 ns/op	 200000 capacity-rps	 180000 target-rps	 120000 rps	 0 reached
BenchmarkOpenLoop/conc/load=90-2 	 1	 1 ns/op	 200000 capacity-rps	 180000 target-rps	 110000 rps	 0 reached
`

func TestOpenLoopShowsLatencyByLoadAndTheLoadsNotReached(t *testing.T) {
	run, err := report.Parse(strings.NewReader(openLoop))
	require.NoError(t, err)
	page := report.Build(run, report.EnvOf(run), "# Benchmarks\n")
	md := page.Markdown
	assert.Contains(t, md, "## Open loop")
	assert.Contains(t, md, "| load | implementation | capacity/s | target/s | achieved/s | p50 | p99 | p99.9 |")
	assert.Contains(t, md, "| 25% | **group** (Stagecoach) | 410,000 | 102,500 | 101,500 | 21.0 µs | 100 µs | 160 µs |")
	assert.Contains(t, md, "| 25% | conc | 200,000 | 50,000 | 49,000 | 30.0 µs | 80.0 µs | 100 µs |")
	assert.Contains(t, md, "| 75% | conc | 200,000 | 150,000 | 124,000 | not reached (1 of 2 runs) |  |  |")
	assert.Contains(t, md, "| 90% | conc | 200,000 | 180,000 | 115,000 | not reached (0 of 2 runs) |  |  |")
	assert.Contains(t, md, "| 90% | **group** (Stagecoach) | 400,000 | 360,000 | 350,000 | 60.0 µs | 900 µs | 2.00 ms |")
	assert.Contains(t, md, "Lowest p99 by load: conc at 25%; **group** (Stagecoach) at 90%.")
	assert.Contains(t, md, "At 90% load, `group`'s p99 (900 µs) is at or below every peer's that reached the rate.")
	assert.NotContains(t, md, "At 50% load", "no run at 50%")
	for _, name := range []string{"openloop-p50.svg", "openloop-p99.svg", "openloop-p999.svg"} {
		require.Contains(t, page.Charts, name)
		checkLayout(t, name, page.Charts[name])
	}
	// µs on the chart; conc has no point where it did not reach the load.
	checkPoints(t, page.Charts["openloop-p99.svg"], map[string]float64{"group/25%": 100, "group/90%": 900, "conc/25%": 80})
	for _, missing := range []string{`data-series="conc" data-x="75%"`, `data-series="conc" data-x="90%"`, `data-series="group" data-x="75%"`} {
		assert.NotContains(t, page.Charts["openloop-p99.svg"], missing)
	}
	assert.NotContains(t, page.Charts["openloop-p99.svg"], "NaN")
}

// A line chart leaves out NaN values: no point, no coordinate, a line through the others, the
// label at the last point there is; a series with no value at all is not drawn.
func TestLineChartLeavesOutMissingValues(t *testing.T) {
	nan := math.NaN()
	svg := report.LineChart("t", "x", "y", []string{"1", "2", "3", "4"}, []report.Series{
		{Label: "a", Values: []float64{10, nan, 30, 40}},
		{Label: "b", Values: []float64{20, 25, nan, nan}},
		{Label: "none", Values: []float64{nan, nan, nan, nan}},
	})
	checkLayout(t, "chart", svg)
	checkPoints(t, svg, map[string]float64{"a/1": 10, "a/3": 30, "a/4": 40, "b/1": 20, "b/2": 25})
	assert.NotContains(t, svg, "NaN")
	assert.NotContains(t, svg, `data-series="none"`)
	assert.Contains(t, svg, `<text class="label"`)
	assert.Equal(t, 2, strings.Count(svg, `<polyline class="series"`))
}

// At 50% and 90% load the page says whether group's p99 is at or below every peer's, naming those
// below it; the designs by hand and the baselines are not peers.
func TestOpenLoopComparesGroupWithThePeers(t *testing.T) {
	out := "BenchmarkOpenLoop/goroutine/load=50-2 1 1 ns/op 10 capacity-rps 5 target-rps 5 rps 1 p50-ns 1000 p99-ns 1 p99.9-ns\n" +
		"BenchmarkOpenLoop/group/load=50-2 1 1 ns/op 10 capacity-rps 5 target-rps 5 rps 1 p50-ns 50000 p99-ns 1 p99.9-ns\n" +
		"BenchmarkOpenLoop/pond/load=50-2 1 1 ns/op 10 capacity-rps 5 target-rps 5 rps 1 p50-ns 40000 p99-ns 1 p99.9-ns\n" +
		"BenchmarkOpenLoop/rill/load=50-2 1 1 ns/op 10 capacity-rps 5 target-rps 5 rps 1 p50-ns 60000 p99-ns 1 p99.9-ns\n" +
		"BenchmarkOpenLoop/group/load=90-2 1 1 ns/op 10 capacity-rps 9 target-rps 3 rps 0 reached\n" +
		"BenchmarkOpenLoop/pond/load=90-2 1 1 ns/op 10 capacity-rps 9 target-rps 9 rps 1 p50-ns 40000 p99-ns 1 p99.9-ns\n"
	run, err := report.Parse(strings.NewReader(out))
	require.NoError(t, err)
	md := report.Build(run, report.EnvOf(run), "").Markdown
	assert.Contains(t, md, "At 50% load, `group`'s p99 (50.0 µs) is above pond (40.0 µs).")
	assert.Contains(t, md, "At 90% load, `group` did not reach the rate: no p99 to compare with the peers'.")
}
