package main

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/examples/siem/loadgen"
)

func point(design string, load int, p99 time.Duration, reached bool) openPoint {
	rep := loadgen.Report{Config: loadgen.Config{Batch: 10}, Offered: float64(load) * 9.8, Reached: reached,
		Achieved: float64(load) * 9}
	if reached {
		rep.P50, rep.P99, rep.P999 = p99/4, p99, 2*p99
	}
	return openPoint{Design: design, Load: load, Rate: float64(load) * 10, Rep: rep, Ver: loadgen.Verification{Acked: 40}}
}

// The median run is the middle one by p99, a run that did not reach its rate counting as worse
// than any that did: with two of three runs not reached, the point is not reached.
func TestMedianOpen(t *testing.T) {
	ms := time.Millisecond
	m, reached := medianOpen([]openPoint{point("group", 50, 9*ms, true), point("group", 50, 3*ms, true), point("group", 50, 0, false)})
	assert.Equal(t, 9*ms, m.Rep.P99)
	assert.Equal(t, 2, reached)
	m, reached = medianOpen([]openPoint{point("group", 50, 0, false), point("group", 50, 3*ms, true), point("group", 50, 0, false)})
	assert.False(t, m.Rep.Reached)
	assert.Equal(t, 1, reached)
	m, _ = medianOpen([]openPoint{point("group", 50, 9*ms, true), point("group", 50, 3*ms, true)})
	assert.Equal(t, 3*ms, m.Rep.P99, "even: the lower middle")
}

func fakeOpen(runs [][]openPoint) openResult {
	return openResult{
		Capacity: map[string][]measurement{"group": {fake("capacity", "group", 64, 1000)}, "pipe": {fake("capacity", "pipe", 64, 800)}},
		Rate:     100, Runs: runs,
	}
}

func TestOpenTables(t *testing.T) {
	res := fakeOpen([][]openPoint{
		{point("group", 50, 8*time.Millisecond, true)}, {point("pipe", 50, 12*time.Millisecond, true)},
		{point("group", 110, 0, false)}, {point("pipe", 110, 0, false)},
	})
	md := openTables(res, options{batch: 10, runs: 1, open: openOptions{conns: 64, duration: 4 * time.Second}})
	assert.Contains(t, md, "Poisson arrivals for 4s a run over 64 connections, 10 events a request")
	assert.Contains(t, md, "median of 1 runs: group 1000, pipe 800 events/s")
	assert.Contains(t, md, "| 50% | 5000 | group | 4900 | 4500 | 2.0 | 8.0 | 16.0 | 1 of 1 | yes (40) |\n")
	assert.Contains(t, md, "| 50% | 5000 | pipe | 4900 | 4500 | 3.0 | 12.0 | 24.0 | 1 of 1 | yes (40) |\n")
	assert.Contains(t, md, "| 110% | 11000 | pipe | 10780 | 9900 | not reached | – | – | 0 of 1 | yes (40) |\n")
}

// The chart is well-formed SVG with a circle per reached row, titled with its p99, and a cross
// per row not reached.
func TestOpenChart(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var runs [][]openPoint
		wantReached, wantNot := 0, 0
		for _, load := range []int{25, 50, 75, 90, 110} {
			for _, d := range openDesigns {
				reached := rapid.Bool().Draw(t, "reached")
				p99 := time.Duration(rapid.Int64Range(int64(100*time.Microsecond), int64(10*time.Second)).Draw(t, "p99"))
				runs = append(runs, []openPoint{point(d, load, p99, reached)})
				if reached {
					wantReached++
				} else {
					wantNot++
				}
			}
		}
		svg := openChart(fakeOpen(runs))
		dec := xml.NewDecoder(strings.NewReader(svg))
		circles, crosses := 0, 0
		for {
			tok, err := dec.Token()
			if err != nil {
				require.ErrorContains(t, err, "EOF")
				break
			}
			if se, ok := tok.(xml.StartElement); ok {
				switch se.Name.Local {
				case "circle":
					circles++
				case "text":
					if tok, err := dec.Token(); err == nil {
						if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "title" {
							crosses++
						}
					}
				}
			}
		}
		assert.Equal(t, wantReached, circles)
		assert.Equal(t, wantNot, crosses)
	})
}

func TestParseLoads(t *testing.T) {
	got, err := parseLoads("25, 50,110")
	require.NoError(t, err)
	assert.Equal(t, []int{25, 50, 110}, got)
	_, err = parseLoads("25,x")
	assert.EqualError(t, err, `-loads "25,x": "x" is not a percentage from 1 to 1000`)
	_, err = parseLoads("0")
	assert.Error(t, err)
}
