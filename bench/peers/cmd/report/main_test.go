package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagecoach-go/stagecoach/bench/peers/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const raw = `goversion: go1.99
report-command: cd bench/peers && go run ./cmd/report -count 2 -benchtime 1x
goos: linux
goarch: amd64
cpu: Test CPU
BenchmarkW1/direct-2 1 1 ns/op 8 ns/item
BenchmarkW1/pool-2 1 1 ns/op 30 ns/item
BenchmarkW1/pool-2 1 1 ns/op 32 ns/item
`

// -from writes the page and the charts that Build makes of the raw file, and leaves the raw file
// alone.
func TestRebuildWritesThePageOfTheRawFile(t *testing.T) {
	dir := t.TempDir()
	from := filepath.Join(dir, "benchmarks.txt")
	require.NoError(t, os.WriteFile(from, []byte(raw), 0o644))
	require.NoError(t, rebuild(from, dir))

	run, err := report.Parse(strings.NewReader(raw))
	require.NoError(t, err)
	want := report.Build(run, report.EnvOf(run), preface)
	md, err := os.ReadFile(filepath.Join(dir, "benchmarks.md"))
	require.NoError(t, err)
	assert.Equal(t, want.Markdown, string(md))
	assert.Contains(t, string(md), "- Go: go1.99\n- Command: `cd bench/peers && go run ./cmd/report -count 2 -benchtime 1x`")
	require.NotEmpty(t, want.Charts)
	for name, svg := range want.Charts {
		got, err := os.ReadFile(filepath.Join(dir, "charts", name))
		require.NoError(t, err, name)
		assert.Equal(t, svg, string(got), name)
	}
	kept, err := os.ReadFile(from)
	require.NoError(t, err)
	assert.Equal(t, raw, string(kept))
}

func TestRebuildRefusesAFileWithoutResults(t *testing.T) {
	dir := t.TempDir()
	from := filepath.Join(dir, "empty.txt")
	require.NoError(t, os.WriteFile(from, []byte("goos: linux\nPASS\n"), 0o644))
	assert.ErrorContains(t, rebuild(from, dir), "no benchmark results")
	_, err := os.Stat(filepath.Join(dir, "benchmarks.md"))
	assert.True(t, os.IsNotExist(err), "nothing written")
	assert.ErrorContains(t, rebuild(filepath.Join(dir, "missing.txt"), dir), "missing.txt")
}

// -from reads the output of bench.Compare on a user's own stages: a page with the short preface
// and a section, a table and a chart a benchmark.
func TestRebuildReadsCompareOutput(t *testing.T) {
	const out = "pkg: example.com/shop\n" +
		"BenchmarkOrders/direct-2 100 1 ns/op 28.8 B/item 1.40 allocs/item 57.5 ns/item\n" +
		"BenchmarkOrders/hand-2 100 1 ns/op 31.1 B/item 1.40 allocs/item 395 ns/item\n" +
		"BenchmarkOrders/pipe-2 100 1 ns/op 31.2 B/item 1.41 allocs/item 433 ns/item\n"
	dir := t.TempDir()
	from := filepath.Join(dir, "orders.txt")
	require.NoError(t, os.WriteFile(from, []byte(out), 0o644))
	require.NoError(t, rebuild(from, dir))
	md, err := os.ReadFile(filepath.Join(dir, "benchmarks.md"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(md), comparePreface), "the preface of a Compare page")
	assert.NotContains(t, string(md), "stagedpipe")
	assert.Contains(t, string(md), "| hand | 395 | 0% | 31.1 | 1.40 | 6.9× |")
	assert.Contains(t, string(md), "`pipe` / `hand` (the same pipeline by hand): 1.10×.")
	_, err = os.Stat(filepath.Join(dir, "charts", "compare-Orders.svg"))
	assert.NoError(t, err)
}

// The suites' page tells users how to compare the designs on their own stages, with the output
// it gives in the format go test prints it.
func TestPrefaceCarriesTheCompareSection(t *testing.T) {
	assert.Contains(t, preface, "## Compare the designs on your own stages")
	assert.Contains(t, preface, "bench.Compare(b, orders, stages, bench.CompareGroups(4))")
	for _, d := range []string{"direct", "hand", "pipe", "pool", "pool-slice", "group"} {
		assert.Regexp(t, `(?m)^BenchmarkOrders/`+d+`-2\s+\d+\s+\d+ ns/op\s+.*ns/item`, compareOutput, d)
	}
}
