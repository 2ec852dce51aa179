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
