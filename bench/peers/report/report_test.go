package report_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/bench/peers/report"
)

const fixture = `goos: linux
goarch: amd64
cpu: Test CPU @ 1GHz
goversion: go1.99
report-command: go run ./cmd/report -count 3
BenchmarkW1/direct-2   	 1	 7000000 ns/op	 0.01 B/item	 0.0001 allocs/item	 7.0 ns/item
BenchmarkW1/direct-2   	 1	 9000000 ns/op	 0.01 B/item	 0.0001 allocs/item	 9.0 ns/item
BenchmarkW1/direct-2   	 1	 8000000 ns/op	 0.01 B/item	 0.0001 allocs/item	 8.0 ns/item
BenchmarkW1/pool-2     	 1	 1 ns/op	 0.1 B/item	 0.0001 allocs/item	 30 ns/item
BenchmarkW1/rill-2     	 1	 1 ns/op	 16 B/item	 1 allocs/item	 1000 ns/item
BenchmarkStages/pool/stages=1-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 30 ns/item
BenchmarkStages/pool/stages=2-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 31 ns/item
BenchmarkStages/pool/stages=4-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 33 ns/item
BenchmarkStages/pool/stages=8-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 40 ns/item
BenchmarkStages/conc/stages=1-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 600 ns/item
BenchmarkStages/conc/stages=2-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 610 ns/item
BenchmarkStages/conc/stages=4-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 590 ns/item
BenchmarkStages/conc/stages=8-2 	 1	 1 ns/op	 0 B/item	 0 allocs/item	 605 ns/item
BenchmarkFairness/group-2 	 3	 1 ns/op	 2.5 latency/service	 7000 service-ns
PASS
ok  	github.com/stagecoach-go/stagecoach/bench/peers	1.0s
`

func TestParseTakesMediansAndSpreads(t *testing.T) {
	run, err := report.Parse(strings.NewReader(fixture))
	require.NoError(t, err)
	assert.Equal(t, "Test CPU @ 1GHz", run.CPU)
	assert.Equal(t, 2, run.Procs)
	st, ok := run.Stat(report.Key{Workload: "W1", Impl: "direct"}, "ns/item")
	require.True(t, ok)
	assert.Equal(t, report.Stat{Median: 8, Spread: 0.125, N: 3}, st)
	assert.Equal(t, []string{"direct", "pool", "rill"}, run.Impls("W1"))
	st, ok = run.Stat(report.Key{Workload: "Stages", Impl: "pool", Param: "stages=8"}, "ns/item")
	require.True(t, ok)
	assert.Equal(t, 40.0, st.Median)
	_, ok = run.Stat(report.Key{Workload: "W1", Impl: "direct"}, "p99-ns")
	assert.False(t, ok, "a metric the output does not have")
}

func TestEnvOfReadsTheConfigurationLines(t *testing.T) {
	run, err := report.Parse(strings.NewReader(fixture))
	require.NoError(t, err)
	assert.Equal(t, report.Env{CPU: "Test CPU @ 1GHz", GoVersion: "go1.99", OSArch: "linux/amd64",
		Command: "go run ./cmd/report -count 3", Procs: 2}, report.EnvOf(run))

	bare, err := report.Parse(strings.NewReader("BenchmarkW1/pool 1 1 ns/op 30 ns/item\n"))
	require.NoError(t, err)
	assert.Equal(t, report.Env{CPU: "not recorded", GoVersion: "not recorded", OSArch: "not recorded", Command: "not recorded"}, report.EnvOf(bare))
}

func TestBuildWritesTablesAndCharts(t *testing.T) {
	run, err := report.Parse(strings.NewReader(fixture))
	require.NoError(t, err)
	page := report.Build(run, report.EnvOf(run), "# Benchmarks\n")
	assert.Contains(t, page.Markdown, "- Machine: Test CPU @ 1GHz, GOMAXPROCS 2, linux/amd64\n- Go: go1.99\n")
	assert.Contains(t, page.Markdown, "| **pool** (Stagecoach) | 30.0 | 0% | 0.10 | 0.0001 | 3.8× |")
	assert.Contains(t, page.Markdown, "| rill | 1000 | 0% | 16.0 | 1.00 | 125.0× |")
	assert.Contains(t, page.Markdown, "Fastest after direct calls: **pool** (Stagecoach).")
	assert.Contains(t, page.Markdown, "| conc | 600 | 610 | 590 | 605 | 5.00 |")
	assert.Contains(t, page.Markdown, "Least added by 8 stages: **conc**, a peer.")
	assert.Contains(t, page.Markdown, "| **group** (Stagecoach) | 2.50 |")
	require.Contains(t, page.Charts, "W1.svg")
	require.Contains(t, page.Charts, "stages.svg")
	checkBars(t, page.Charts["W1.svg"], map[string]float64{"direct": 8, "pool": 30, "rill": 1000})
	checkPoints(t, page.Charts["stages.svg"], map[string]float64{"pool/1": 30, "pool/8": 40, "conc/4": 590})
	for name, svg := range page.Charts {
		checkLayout(t, name, svg)
	}
}

// The committed charts are readable (checkLayout) and their bars match the numbers in
// docs/benchmarks.md.
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
		checkLayout(t, path, string(data))
		svg := parseSVG(t, string(data))
		for _, r := range svg.Rects {
			if r.Class != "bar" {
				continue
			}
			assert.Contains(t, string(md), "| "+tableLabel(r.Label)+" | "+formatLike(t, r.Value)+" |", "%s: bar %s", path, r.Label)
		}
	}
}

func TestAxisCoversTheValuesWithRoundTicks(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		values := rapid.SliceOfN(rapid.Float64Range(1e-3, 1e9), 1, 12).Draw(t, "values")
		ax := report.NewAxis(values)
		lo, hi := slices.Min(values), slices.Max(values)
		if ax.Log != (hi/lo >= 10) {
			t.Fatalf("log scale %v for values from %g to %g", ax.Log, lo, hi)
		}
		if len(ax.Ticks) < 3 {
			t.Fatalf("ticks %v: fewer than 3", ax.Ticks)
		}
		if ax.Lo > lo || ax.Hi < hi || ax.Ticks[0] != ax.Lo || ax.Ticks[len(ax.Ticks)-1] != ax.Hi {
			t.Fatalf("axis %+v does not span the values %g..%g from tick to tick", ax, lo, hi)
		}
		if ax.Hi > hi*10*(1+1e-9) {
			t.Fatalf("axis %+v ends more than 10x beyond the largest value %g", ax, hi)
		}
		for i, tk := range ax.Ticks {
			if i > 0 && tk <= ax.Ticks[i-1] {
				t.Fatalf("ticks %v not increasing", ax.Ticks)
			}
			if !isRound(tk) {
				t.Fatalf("tick %g is not 1, 2 or 5 times a power of ten, or a multiple of a linear step", tk)
			}
		}
		prev := -1.0
		for _, v := range slices.Sorted(slices.Values(values)) {
			pos := ax.Pos(v, 500)
			if pos < 0 || pos > 500 || pos < prev {
				t.Fatalf("Pos(%g) = %g: outside [0, 500] or not monotone (previous %g)", v, pos, prev)
			}
			prev = pos
		}
	})
}

// isRound reports whether v has one significant digit of 1, 2 or 5 or is a small multiple of
// such a step (a linear axis has ticks 0, 20, 40, 60...).
func isRound(v float64) bool {
	if v == 0 {
		return true
	}
	mant := v / math.Pow(10, math.Floor(math.Log10(v)+1e-9))
	return math.Abs(mant-math.Round(mant)) < 1e-6 || math.Abs(2*mant-math.Round(2*mant)) < 1e-6
}

func TestBarChartIsReadable(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 10).Draw(t, "bars")
		bars := make([]report.Bar, n)
		want := map[string]float64{}
		for i := range bars {
			label := rapid.StringMatching(`[a-z]{1,12}`).Draw(t, "label") + strconv.Itoa(i)
			v := rapid.Float64Range(1e-2, 1e7).Draw(t, "value")
			bars[i] = report.Bar{Label: label, Value: v, Ours: rapid.Bool().Draw(t, "ours")}
			want[label] = v
		}
		svg := report.BarChart("W9: ns per item (shorter is better)", "ns per item", bars)
		checkLayout(t, "bar chart", svg)
		checkBars(t, svg, want)
	})
}

func TestLineChartIsReadable(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nx := rapid.IntRange(1, 6).Draw(t, "xs")
		xs := make([]string, nx)
		for i := range xs {
			xs[i] = strconv.Itoa(1 << (2 * i))
		}
		// Series that end close together are the case labels must be moved apart for.
		base := rapid.Float64Range(1, 1e5).Draw(t, "base")
		series := make([]report.Series, rapid.IntRange(1, 12).Draw(t, "series"))
		want := map[string]float64{}
		for k := range series {
			// Names with a colour of their own, and others, which take the colours left.
			label := rapid.SampledFrom(report.SeriesColors).Draw(t, "known")
			if rapid.Bool().Draw(t, "unknown") || want[label+"/"+xs[0]] != 0 {
				label = rapid.StringMatching(`[a-z]{1,10}`).Draw(t, "label") + strconv.Itoa(k)
			}
			sr := report.Series{Label: label, Ours: rapid.Bool().Draw(t, "ours"), Dashed: rapid.Bool().Draw(t, "dashed")}
			for i := range xs {
				v := base * rapid.Float64Range(0.5, 2).Draw(t, "factor")
				sr.Values = append(sr.Values, v)
				want[sr.Label+"/"+xs[i]] = v
			}
			series[k] = sr
		}
		svg := report.LineChart("ns per item by number of stages", "number of stages", "ns per item", xs, series)
		checkLayout(t, "line chart", svg)
		checkPoints(t, svg, want)
	})
}

// An implementation has the same colour in every chart, whatever else the chart shows.
func TestSeriesKeepTheirColourAcrossCharts(t *testing.T) {
	colour := func(svg, label string) string {
		i := strings.Index(svg, `<polyline class="series" data-series="`+label+`"`)
		require.GreaterOrEqual(t, i, 0, "series %s drawn", label)
		rest := svg[i:]
		j := strings.Index(rest, `stroke="`) + len(`stroke="`)
		return rest[j : j+strings.Index(rest[j:], `"`)]
	}
	one := report.LineChart("a", "x", "y", []string{"1", "2"}, []report.Series{
		{Label: "pool", Values: []float64{1, 2}}, {Label: "rill", Values: []float64{3, 4}}})
	two := report.LineChart("b", "x", "y", []string{"1", "2"}, []report.Series{
		{Label: "zeta", Values: []float64{1, 2}}, {Label: "rill", Values: []float64{3, 4}}, {Label: "group", Values: []float64{5, 6}}, {Label: "pool", Values: []float64{3, 4}}})
	assert.Equal(t, colour(one, "pool"), colour(two, "pool"))
	assert.Equal(t, colour(one, "rill"), colour(two, "rill"))
	assert.NotEqual(t, colour(two, "zeta"), colour(two, "pool"))
}

func TestLineChartPanicsOnMismatchedSeries(t *testing.T) {
	assert.PanicsWithValue(t, `report: series "a" has 1 values for 2 xs`, func() {
		report.LineChart("t", "x", "y", []string{"1", "2"}, []report.Series{{Label: "a", Values: []float64{1}}})
	})
}

// text is one text element of a chart with its estimated box: 0.6 x the font size a character
// wide, from 0.8 x the size above the baseline to 0.25 below.
type text struct {
	class, body            string
	left, top, right, bott float64
}

type line struct{ stroke, dash string }

// layout reads the texts and series lines of a chart.
func layout(t tester, s string) (w, h float64, texts []text, series []line) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	rootSize := 0.0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		el, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		attr := func(name string) string {
			for _, a := range el.Attr {
				if a.Name.Local == name {
					return a.Value
				}
			}
			return ""
		}
		num := func(name string) float64 {
			v, err := strconv.ParseFloat(attr(name), 64)
			require.NoError(t, err, "attribute %s of <%s>", name, el.Name.Local)
			return v
		}
		switch el.Name.Local {
		case "svg":
			vb := strings.Fields(attr("viewBox"))
			require.Len(t, vb, 4)
			w, _ = strconv.ParseFloat(vb[2], 64)
			h, _ = strconv.ParseFloat(vb[3], 64)
			rootSize = num("font-size")
		case "polyline":
			series = append(series, line{attr("stroke"), attr("stroke-dasharray")})
		case "text":
			var body string
			require.NoError(t, dec.DecodeElement(&body, &el))
			size := rootSize
			if attr("font-size") != "" {
				size = num("font-size")
			}
			x, y := num("x"), num("y")
			width := 0.6 * size * float64(utf8.RuneCountInString(body))
			left := x
			switch attr("text-anchor") {
			case "middle":
				left = x - width/2
			case "end":
				left = x - width
			}
			texts = append(texts, text{attr("class"), body, left, y - 0.8*size, left + width, y + 0.25*size})
		}
	}
	return w, h, texts, series
}

// checkLayout checks what makes a chart readable: every text inside the picture, no two texts
// overlapping, a caption on each axis, at least three labelled ticks on the value axis, and one
// colour (or colour and dash pattern) a series.
func checkLayout(t tester, name, s string) {
	t.Helper()
	w, h, texts, series := layout(t, s)
	captions := map[string]bool{}
	ticks := map[string]int{}
	for i, a := range texts {
		if a.left < 0 || a.top < 0 || a.right > w || a.bott > h {
			t.Fatalf("%s: text %q (%.0f,%.0f)-(%.0f,%.0f) outside the %gx%g picture", name, a.body, a.left, a.top, a.right, a.bott, w, h)
		}
		for _, b := range texts[:i] {
			if a.left < b.right && b.left < a.right && a.top < b.bott && b.top < a.bott {
				t.Fatalf("%s: texts %q and %q overlap", name, a.body, b.body)
			}
		}
		if c, ok := strings.CutPrefix(a.class, "caption "); ok && a.body != "" {
			captions[c] = true
		}
		if c, ok := strings.CutPrefix(a.class, "tick "); ok {
			ticks[c]++
		}
	}
	if !captions["x"] || !captions["y"] {
		t.Fatalf("%s: axis captions %v, want one on x and y", name, captions)
	}
	valueAxis := "y" // line charts
	if len(series) == 0 {
		valueAxis = "x" // bar charts
	}
	if ticks[valueAxis] < 3 {
		t.Fatalf("%s: %d labelled ticks on the value axis, want at least 3", name, ticks[valueAxis])
	}
	seen := map[line]bool{}
	for _, l := range series {
		if seen[l] {
			t.Fatalf("%s: two series drawn as stroke %s dash %q", name, l.stroke, l.dash)
		}
		seen[l] = true
	}
}

func TestCheckLayoutCatchesOverlapsAndOverflow(t *testing.T) {
	head := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" font-size="10">`
	ok := `<text class="caption x" x="50" y="95" text-anchor="middle">x</text><text class="caption y" x="0" y="10">y</text>` +
		`<text class="tick x" x="10" y="80">1</text><text class="tick x" x="30" y="80">2</text><text class="tick x" x="50" y="80">5</text>`
	for name, tc := range map[string]struct {
		body string
		fail bool
	}{
		"fine":            {ok, false},
		"past the right":  {ok + `<text x="90" y="50">wide label</text>`, true},
		"above the top":   {ok + `<text x="40" y="2">t</text>`, true},
		"overlapping":     {ok + `<text x="12" y="82">overlap</text>`, true},
		"two ticks":       {strings.Replace(ok, `<text class="tick x" x="50" y="80">5</text>`, "", 1), true},
		"no y caption":    {strings.Replace(ok, `class="caption y"`, `class="label"`, 1), true},
		"shared colour":   {ok + `<polyline stroke="#000" points="0,0"/><polyline stroke="#000" points="0,0"/><text class="tick y" x="0" y="30">1</text><text class="tick y" x="0" y="50">2</text><text class="tick y" x="0" y="70">3</text>`, true},
		"dashed apart":    {ok + `<polyline stroke="#000" points="0,0"/><polyline stroke="#000" stroke-dasharray="6 4" points="0,0"/><text class="tick y" x="0" y="30">1</text><text class="tick y" x="0" y="50">2</text><text class="tick y" x="0" y="70">3</text>`, false},
		"y ticks missing": {ok + `<polyline stroke="#000" points="0,0"/>`, true},
	} {
		rec := &recorder{}
		func() {
			defer func() { _ = recover() }()
			checkLayout(rec, name, head+tc.body+"</svg>")
		}()
		assert.Equal(t, tc.fail, rec.failed, "%s: %s", name, rec.msg)
	}
}

// tester is what the checkers need of a test: a *testing.T or a *rapid.T.
type tester interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	FailNow()
}

// recorder stands in for a test so that a test can check a checker; Fatalf records and stops.
type recorder struct {
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	panic(r)
}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}
func (r *recorder) FailNow() { r.failed = true; panic(r) }

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

func parseSVG(t tester, s string) svgDoc {
	t.Helper()
	var doc svgDoc
	require.NoError(t, xml.Unmarshal([]byte(s), &doc), "valid XML")
	require.Equal(t, "http://www.w3.org/2000/svg", doc.XMLName.Space, "an SVG document")
	require.NotEmpty(t, doc.Width)
	require.NotEmpty(t, doc.Height)
	require.Len(t, strings.Fields(doc.ViewBox), 4)
	return doc
}

// checkBars finds a bar for every expected label, with its value, and bar lengths in the order
// of the values, the longest no longer than the plot.
func checkBars(t tester, s string, want map[string]float64) {
	t.Helper()
	doc := parseSVG(t, s)
	type bar struct{ v, w float64 }
	var bars []bar
	for _, r := range doc.Rects {
		if r.Class != "bar" {
			continue
		}
		v, err := strconv.ParseFloat(r.Value, 64)
		require.NoError(t, err)
		assert.Equal(t, want[r.Label], v, "bar %s", r.Label)
		assert.GreaterOrEqual(t, r.Width, 0.0, "bar %s", r.Label)
		assert.LessOrEqual(t, r.X+r.Width, float64(report.ChartWidth), "bar %s", r.Label)
		bars = append(bars, bar{v, r.Width})
	}
	assert.Equal(t, len(want), len(bars))
	for _, a := range bars {
		for _, b := range bars {
			if a.v < b.v && a.w > b.w+1e-9 {
				t.Fatalf("bar of %g (%.2f long) longer than bar of %g (%.2f)", a.v, a.w, b.v, b.w)
			}
		}
	}
}

func checkPoints(t tester, s string, want map[string]float64) {
	t.Helper()
	doc := parseSVG(t, s)
	seen := 0
	for _, c := range doc.Circles {
		if v, ok := want[c.Series+"/"+c.X]; ok {
			got, err := strconv.ParseFloat(c.Value, 64)
			require.NoError(t, err)
			assert.InEpsilon(t, v, got, 1e-5, "point %s/%s", c.Series, c.X)
			assert.False(t, math.IsNaN(c.CY))
			seen++
		}
	}
	assert.Equal(t, len(want), seen)
}

func tableLabel(impl string) string {
	if slices.Contains(report.Ours, impl) {
		return "**" + impl + "** (Stagecoach)"
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
