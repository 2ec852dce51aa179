package report_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench/peers/report"
)

const policiesFixture = `BenchmarkWeightedShares/weights=1:3/workers=1-2 	 1	 1 ns/op	 3000 ns/item	 0.748 share
BenchmarkWeightedShares/weights=1:3/workers=1-2 	 1	 1 ns/op	 3000 ns/item	 0.752 share
BenchmarkWeightedShares/weights=1:3/workers=1-2 	 1	 1 ns/op	 3000 ns/item	 0.751 share
BenchmarkWeightedShares/weights=1:3/workers=8-2 	 1	 1 ns/op	 1500 ns/item	 0.760 share
BenchmarkWeightedShares/weights=none/workers=1-2 	 1	 1 ns/op	 3000 ns/item	 0.481 share
BenchmarkShedLoad/maxwait=none-2 	 3	 1 ns/op	 80000 capacity-rps	 0 expired	 150000000 p99-sojourn-ns	 40000000 p50-ns	 0.95 served/capacity
BenchmarkShedLoad/maxwait=2ms-2 	 3	 1 ns/op	 70000 capacity-rps	 0.25 expired	 2000000 p99-sojourn-ns	 800000 p50-ns	 2020000 p99-bound-ns	 0.88 served/capacity
BenchmarkShedLoad/maxwait=2ms-2 	 3	 1 ns/op	 90000 capacity-rps	 0.23 expired	 1900000 p99-sojourn-ns	 850000 p50-ns	 2020000 p99-bound-ns	 0.90 served/capacity
BenchmarkShedLoad/maxwait=2ms-2 	 3	 1 ns/op	 80000 capacity-rps	 0.24 expired	 1950000 p99-sojourn-ns	 820000 p50-ns	 2020000 p99-bound-ns	 0.92 served/capacity
BenchmarkRetry/retry/conc=4-2 	 1	 1 ns/op	 240000 ns/item
BenchmarkRetry/sleep/conc=4-2 	 1	 1 ns/op	 300000 ns/item
`

func TestBuildWritesTheServicePolicies(t *testing.T) {
	run, err := report.Parse(strings.NewReader(policiesFixture))
	require.NoError(t, err)
	assert.True(t, run.Suites(), "ShedLoad and Retry are suites of the report, not bench.Compare output")
	md := report.Build(run, report.EnvOf(run), "# Benchmarks\n").Markdown
	assert.Contains(t, md, "\n## Service policies\n")
	assert.Contains(t, md, "| | workers=1 | workers=8 |\n|---|---:|---:|\n")
	assert.Contains(t, md, "| weights=1:3 | 0.751 | 0.760 |\n")
	assert.Contains(t, md, "| weights=none | 0.481 | - |\n")
	// The medians of the three MaxWait runs; the run without one has no bound.
	assert.Contains(t, md, "| maxwait=2ms | 0.90 | 24% | 820 µs | 1.95 ms | 2.02 ms | 80,000/s |")
	assert.Contains(t, md, "| maxwait=none | 0.95 | 0% | 40.0 ms | 150 ms | - | 80,000/s |")
	assert.Contains(t, md, "| retry, conc=4 | 240 µs | 0% | 0.80× |")
	assert.Contains(t, md, "| sleep, conc=4 | 300 µs | 0% | - |")
	assert.NotContains(t, md, "## ShedLoad", "no bench.Compare section for a suite")
}

func TestBuildLeavesOutPoliciesNotRun(t *testing.T) {
	run, err := report.Parse(strings.NewReader(fixture))
	require.NoError(t, err)
	assert.NotContains(t, report.Build(run, report.EnvOf(run), "").Markdown, "Service policies")
}
