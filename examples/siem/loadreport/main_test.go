package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/examples/siem/loadgen"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func fake(table, design string, clients int, eps float64) measurement {
	return measurement{
		scenario: scenario{Table: table, Design: design, Clients: clients, SQLite: "batch", Workers: 32},
		Rep:      loadgen.Report{EventsPerSec: eps, P50: 1500 * time.Microsecond, P99: 12 * time.Millisecond},
		Ver:      loadgen.Verification{Acked: 100},
	}
}

func TestTables(t *testing.T) {
	ms := []measurement{fake("designs", "group", 1, 4000), fake("designs", "pipe", 1, 3900), fake("sqlite", "group", 16, 5000)}
	ms[2].Ver.Missing = 1
	md := tables(ms, 100, 10, 3)
	assert.Contains(t, md, "100 events a run, 10 a request; each row is the median of 3")
	assert.Contains(t, md, "| group | 1 | batch | 32 | 4000 | 1.5 | 12.0 | yes (100) |\n")
	assert.Contains(t, md, "| pipe | 1 | batch | 32 | 3900 | 1.5 | 12.0 | yes (100) |\n")
	assert.Contains(t, md, "| group | 16 | batch | 32 | 5000 | 1.5 | 12.0 | NO: 100 acknowledged: 1 missing, 0 duplicated, 0 stored unacknowledged |\n")
	assert.NotContains(t, md, "**Workers**", "no table without rows")
}

// The chart is well-formed SVG with one bar per row of the designs table, each bar as tall as
// its events per second on the axis.
func TestChart(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var ms []measurement
		for _, c := range []int{1, 16, 256} {
			for _, d := range []string{"group", "pipe"} {
				ms = append(ms, fake("designs", d, c, rapid.Float64Range(1, 1e6).Draw(t, "eps")))
			}
		}
		svg := chart(ms)
		dec := xml.NewDecoder(strings.NewReader(svg))
		bars := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				require.ErrorContains(t, err, "EOF")
				break
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "title" {
				bars++
			}
		}
		assert.Equal(t, len(ms), bars)
	})
}

func TestNiceCeil(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.Float64Range(1, 1e9).Draw(t, "v")
		c := niceCeil(v)
		assert.GreaterOrEqual(t, c, v)
		assert.Less(t, c, 5*v+1e-9, "at most one step above")
	})
}

func TestMedian(t *testing.T) {
	runs := []measurement{fake("designs", "group", 1, 30), fake("designs", "group", 1, 10), fake("designs", "group", 1, 20)}
	assert.Equal(t, 20.0, median(runs).Rep.EventsPerSec)
	assert.Equal(t, 10.0, median(runs[:2]).Rep.EventsPerSec, "even: the lower middle")
	assert.Equal(t, 30.0, runs[0].Rep.EventsPerSec, "the input is not reordered")
}

func TestReplaceSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	require.NoError(t, os.WriteFile(path, []byte("# T\n\n"+beginMark+"\nold\n"+endMark+"\ntail\n"), 0o644))
	require.NoError(t, replaceSection(path, "new table\n"))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "# T\n\n"+beginMark+"\nnew table\n"+endMark+"\ntail\n", string(got))

	require.NoError(t, os.WriteFile(path, []byte("no markers"), 0o644))
	assert.ErrorContains(t, replaceSection(path, "x"), "has no")
}

func TestGreeting(t *testing.T) {
	url, key, err := greeting(strings.NewReader("siem: group design\ndashboard: http://127.0.0.1:1234/\ndemo API key (shown once; only its hash is stored): siem_k\nmore\n"))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1234", url)
	assert.Equal(t, "siem_k", key)
	_, _, err = greeting(strings.NewReader("dashboard: http://x/\n"))
	assert.ErrorContains(t, err, "did not print")
}

func TestFlags(t *testing.T) {
	var out, errb strings.Builder
	assert.Equal(t, 2, run([]string{"-runs", "0"}, &out, &errb))
	assert.Contains(t, errb.String(), "must be positive")
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-open-duration", "0s"}, &out, &errb))
	assert.Contains(t, errb.String(), "-open-duration 0s must be positive")
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-loads", "50,abc"}, &out, &errb))
	assert.Contains(t, errb.String(), `"abc" is not a percentage`)
	errb.Reset()
	assert.Equal(t, 2, run([]string{"-only", "everything"}, &out, &errb))
	assert.Contains(t, errb.String(), `-only "everything": want designs, sqlite, workers or open`)
}
