package report_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench/peers/report"
)

// service is a synthetic output of the service-scale benchmarks: request/response latency, the
// I/O-bound W4 and the memory of an open group, two runs each.
const service = `cpu: Test CPU @ 1GHz
BenchmarkRequestResponse/group/clients=1-2     	 1	 1 ns/op	 9000 p50-ns	 20000 p99-ns	 100000 rt/s
BenchmarkRequestResponse/group/clients=1-2     	 1	 1 ns/op	 11000 p50-ns	 22000 p99-ns	 90000 rt/s
BenchmarkRequestResponse/group/clients=64-2    	 1	 1 ns/op	 40000 p50-ns	 90000 p99-ns	 1500000 rt/s
BenchmarkRequestResponse/group/clients=64-2    	 1	 1 ns/op	 40000 p50-ns	 94000 p99-ns	 1500000 rt/s
BenchmarkRequestResponse/promise/clients=1-2   	 1	 1 ns/op	 8000 p50-ns	 30000 p99-ns	 120000 rt/s
BenchmarkRequestResponse/promise/clients=1-2   	 1	 1 ns/op	 8000 p50-ns	 30000 p99-ns	 120000 rt/s
BenchmarkRequestResponse/promise/clients=64-2  	 1	 1 ns/op	 35000 p50-ns	 80000 p99-ns	 1700000 rt/s
BenchmarkRequestResponse/promise/clients=64-2  	 1	 1 ns/op	 35000 p50-ns	 80000 p99-ns	 1700000 rt/s
BenchmarkW4/pool/conc=16-2     	 1	 1 ns/op	 26000 ns/item	 1.04 x-ideal
BenchmarkW4/pool/conc=16-2     	 1	 1 ns/op	 26000 ns/item	 1.04 x-ideal
BenchmarkW4/pool/conc=256-2    	 1	 1 ns/op	 1700 ns/item	 1.088 x-ideal
BenchmarkW4/pool/conc=256-2    	 1	 1 ns/op	 1700 ns/item	 1.088 x-ideal
BenchmarkW4/rill/conc=16-2     	 1	 1 ns/op	 50000 ns/item	 2.0 x-ideal
BenchmarkW4/rill/conc=16-2     	 1	 1 ns/op	 50000 ns/item	 2.0 x-ideal
BenchmarkW4/rill/conc=256-2    	 1	 1 ns/op	 6250 ns/item	 4.0 x-ideal
BenchmarkW4/rill/conc=256-2    	 1	 1 ns/op	 6250 ns/item	 4.0 x-ideal
BenchmarkGroupMemory-2 	 1	 1 ns/op	 800 B/group
BenchmarkGroupMemory-2 	 1	 1 ns/op	 900 B/group
`

func TestBuildShowsTheServiceBenchmarksWhenPresent(t *testing.T) {
	run, err := report.Parse(strings.NewReader(service))
	require.NoError(t, err)
	page := report.Build(run, report.EnvOf(run), "# Benchmarks\n")
	md := page.Markdown

	assert.Contains(t, md, "## Request/response")
	assert.Contains(t, md, "| 1 | **group** (Stagecoach) | 10.0 µs | 21.0 µs | 95,000 |")
	assert.Contains(t, md, "| 64 | promise | 35.0 µs | 80.0 µs | 1,700,000 |")
	assert.Contains(t, md, "Lowest p99 after direct calls, by client count: **group** (Stagecoach) at 1; promise at 64.")
	require.Contains(t, page.Charts, "requestresponse-p50.svg")
	require.Contains(t, page.Charts, "requestresponse-p99.svg")
	checkPoints(t, page.Charts["requestresponse-p50.svg"], map[string]float64{"group/1": 10, "group/64": 40, "promise/64": 35})
	checkPoints(t, page.Charts["requestresponse-p99.svg"], map[string]float64{"group/1": 21, "group/64": 92, "promise/1": 30})

	assert.Contains(t, md, "## W4")
	assert.Contains(t, md, "| implementation | conc=16: ns/item | × ideal | conc=256: ns/item | × ideal |")
	assert.Contains(t, md, "| **pool** (Stagecoach) | 26000 | 1.04× | 1700 | 1.09× |")
	assert.Contains(t, md, "| rill | 50000 | 2.00× | 6250 | 4.00× |")
	require.Contains(t, page.Charts, "W4.svg")
	// The ideal line is ns/item over x-ideal: 25,000 ns at 16, 1,562.5 at 256.
	checkPoints(t, page.Charts["W4.svg"], map[string]float64{"pool/16": 26000, "rill/256": 6250, "ideal/16": 25000, "ideal/256": 1562.5})

	assert.Contains(t, md, "## Memory")
	assert.Contains(t, md, "| heap held by an open idle group | 850 B | 6% |")

	for name, svg := range page.Charts {
		checkLayout(t, name, svg)
	}
}

func TestBuildLeavesOutWhatDidNotRun(t *testing.T) {
	run, err := report.Parse(strings.NewReader(fixture))
	require.NoError(t, err)
	page := report.Build(run, report.EnvOf(run), "# Benchmarks\n")
	for _, section := range []string{"## W2", "## W3", "## W4", "## Request/response", "## Memory"} {
		assert.NotContains(t, page.Markdown, section)
	}
	names := make([]string, 0, len(page.Charts))
	for name := range page.Charts {
		names = append(names, name)
	}
	assert.ElementsMatch(t, []string{"W1.svg", "stages.svg"}, names)
}

// A W4 run without x-ideal still gets its table and chart, with no ideal line.
func TestW4WithoutIdeal(t *testing.T) {
	run, err := report.Parse(strings.NewReader("BenchmarkW4/pool/conc=16-2 1 1 ns/op 26000 ns/item\nBenchmarkW4/pool/conc=256-2 1 1 ns/op 1700 ns/item\n"))
	require.NoError(t, err)
	page := report.Build(run, report.EnvOf(run), "")
	assert.Contains(t, page.Markdown, "| **pool** (Stagecoach) | 26000 | - | 1700 | - |")
	require.Contains(t, page.Charts, "W4.svg")
	assert.NotContains(t, page.Charts["W4.svg"], `data-series="ideal"`)
}

func TestFormatNsPicksAUnit(t *testing.T) {
	for ns, want := range map[float64]string{850: "850 ns", 40_100: "40.1 µs", 1_234_000: "1.23 ms", 9.5: "9.50 ns"} {
		assert.Equal(t, want, report.FormatNs(ns), "%g ns", ns)
	}
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1_700_000: "1,700,000", -12345.6: "-12,346"} {
		assert.Equal(t, want, report.FormatCount(v), "%g", v)
	}
}
