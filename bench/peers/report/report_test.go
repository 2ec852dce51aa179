package report_test

import (
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench/peers/report"
)

const fixture = `goos: linux
cpu: Test CPU @ 1GHz
BenchmarkW1/direct-2   	 1	 7000000 ns/op	 0.01 B/item	 0.0001 allocs/item	 7.0 ns/item
BenchmarkW1/direct-2   	 1	 9000000 ns/op	 0.01 B/item	 0.0001 allocs/item	 9.0 ns/item
BenchmarkW1/direct-2   	 1	 8000000 ns/op	 0.01 B/item	 0.0001 allocs/item	 8.0 ns/item
BenchmarkW1/pool-2     	 1	 1 ns/op	 0.1 B/item	 0.0001 allocs/item	 30 ns/item
BenchmarkW1/rill-2     	 1	 1 ns/op	 16 B/item	 1 allocs/item	 1000 ns/item
BenchmarkStages/pool/stages=1-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 30 ns/item
BenchmarkStages/pool/stages=2-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 31 ns/item
BenchmarkStages/pool/stages=4-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 33 ns/item
BenchmarkStages/pool/stages=8-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 40 ns/item
BenchmarkFairness/group-2 	 3	 1 ns/op	 2.5 latency/service	 7000 service-ns
`

func TestParseTakesMediansAndSpreads(t *testing.T) {
	run, err := report.Parse(strings.NewReader(fixture))
	require.NoError(t, err)
	assert.Equal(t, "Test CPU @ 1GHz", run.CPU)
	st, ok := run.Stat(report.Key{Workload: "W1", Impl: "direct"}, "ns/item")
	require.True(t, ok)
	assert.Equal(t, report.Stat{Median: 8, Spread: 0.125, N: 3}, st)
	assert.Equal(t, []string{"direct", "pool", "rill"}, run.Impls("W1"))
	st, ok = run.Stat(report.Key{Workload: "Stages", Impl: "pool", Param: "stages=8"}, "ns/item")
	require.True(t, ok)
	assert.Equal(t, 40.0, st.Median)
}

func TestBuildWritesTablesAndCharts(t *testing.T) {
	run, err := report.Parse(strings.NewReader(fixture))
	require.NoError(t, err)
	page := report.Build(run, report.Env{CPU: run.CPU, Procs: 2, GoVersion: "go1.26", OSArch: "linux/amd64", Command: "go run ./cmd/report"}, "# Benchmarks\n")
	assert.Contains(t, page.Markdown, "| **pool** (Stagecoach) | 30.0 | 0% | 0.10 | 0.0001 | 3.8× |")
	assert.Contains(t, page.Markdown, "| rill | 1000 | 0% | 16.0 | 1.00 | 125.0× |")
	assert.Contains(t, page.Markdown, "Fastest after direct calls: **pool** (Stagecoach).")
	assert.Contains(t, page.Markdown, "| **group** (Stagecoach) | 2.50 |")
	require.Contains(t, page.Charts, "W1.svg")
	require.Contains(t, page.Charts, "stages.svg")
	checkBars(t, page.Charts["W1.svg"], map[string]float64{"direct": 8, "pool": 30, "rill": 1000})
	checkPoints(t, page.Charts["stages.svg"], map[string]float64{"pool/1": 30, "pool/8": 40})
}

// The committed charts are valid SVG whose bars match the numbers in docs/benchmarks.md.
func TestCommittedChartsMatchTheReport(t *testing.T) {
	docs := filepath.Join("..", "..", "..", "docs")
	md, err := os.ReadFile(filepath.Join(docs, "benchmarks.md"))
	if os.IsNotExist(err) {
		t.Skip("no report generated yet")
	}
	require.NoError(t, err)
	charts, err := filepath.Glob(filepath.Join(docs, "charts", "*.svg"))
	require.NoError(t, err)
	require.NotEmpty(t, charts)
	for _, path := range charts {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		svg := parseSVG(t, string(data))
		for _, r := range svg.Rects {
			if r.Class != "bar" {
				continue
			}
			assert.Contains(t, string(md), "| "+tableLabel(r.Label)+" | "+formatLike(t, r.Value)+" |", "%s: bar %s", path, r.Label)
		}
	}
}

type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Width   string   `xml:"width,attr"`
	Height  string   `xml:"height,attr"`
	ViewBox string   `xml:"viewBox,attr"`
	Rects   []struct {
		Class string  `xml:"class,attr"`
		Label string  `xml:"data-label,attr"`
		Value string  `xml:"data-value,attr"`
		X     float64 `xml:"x,attr"`
		Width float64 `xml:"width,attr"`
	} `xml:"rect"`
	Circles []struct {
		Series string  `xml:"data-series,attr"`
		X      string  `xml:"data-x,attr"`
		Value  string  `xml:"data-value,attr"`
		CY     float64 `xml:"cy,attr"`
	} `xml:"circle"`
}

func parseSVG(t *testing.T, s string) svgDoc {
	t.Helper()
	var doc svgDoc
	require.NoError(t, xml.Unmarshal([]byte(s), &doc), "valid XML")
	require.Equal(t, "http://www.w3.org/2000/svg", doc.XMLName.Space, "an SVG document")
	require.NotEmpty(t, doc.Width)
	require.NotEmpty(t, doc.Height)
	require.Len(t, strings.Fields(doc.ViewBox), 4)
	return doc
}

// checkBars finds a bar for every expected label, with its value, and a length that is the log
// scale of the value on the chart's axis.
func checkBars(t *testing.T, s string, want map[string]float64) {
	t.Helper()
	doc := parseSVG(t, s)
	values := []float64{}
	for _, v := range want {
		values = append(values, v)
	}
	lo, hi := report.Bounds(values)
	found := 0
	for _, r := range doc.Rects {
		if r.Class != "bar" {
			continue
		}
		v, err := strconv.ParseFloat(r.Value, 64)
		require.NoError(t, err)
		assert.Equal(t, want[r.Label], v, "bar %s", r.Label)
		assert.InDelta(t, report.LogScale(v, lo, hi, report.PlotWidth), r.Width, 0.01, "bar %s length", r.Label)
		found++
	}
	assert.Equal(t, len(want), found)
}

func checkPoints(t *testing.T, s string, want map[string]float64) {
	t.Helper()
	doc := parseSVG(t, s)
	seen := 0
	for _, c := range doc.Circles {
		if v, ok := want[c.Series+"/"+c.X]; ok {
			got, err := strconv.ParseFloat(c.Value, 64)
			require.NoError(t, err)
			assert.Equal(t, v, got)
			seen++
		}
	}
	assert.Equal(t, len(want), seen)
	assert.False(t, math.IsNaN(doc.Circles[0].CY))
}

func tableLabel(impl string) string {
	for _, o := range report.Ours {
		if o == impl {
			return "**" + impl + "** (Stagecoach)"
		}
	}
	return impl
}

// formatLike formats a chart value as the table prints it.
func formatLike(t *testing.T, s string) string {
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}
