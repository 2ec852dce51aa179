package report

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Bar is one bar of a bar chart.
type Bar struct {
	Label string
	Value float64
	Ours  bool // drawn in the accent colour
}

// Geometry shared by the charts.
const (
	ChartWidth = 720 // every chart is this wide; its height follows from its content
	FontSize   = 12  // the size of every text but the title
	TitleSize  = 15

	barHeight = 22
	barGap    = 8
	// charWidth is the width of an average character as a fraction of the font size, with a
	// margin over the usual 0.6 of sans-serif fonts, so that layouts leave room for real fonts.
	charWidth = 0.65
)

// textWidth estimates the rendered width of s at the given font size.
func textWidth(s string, size float64) float64 {
	return charWidth * size * float64(utf8.RuneCountInString(s))
}

// Axis maps values onto a length. Values within a factor of 10 of each other get a linear axis
// from zero, so that bar lengths compare honestly; wider ranges get a log10 axis between the
// decades around them. Either way the axis has at least three ticks at round values (decades on
// a log axis, 1-2-5 steps on a linear one). Values at or below the axis start map to 0.
type Axis struct {
	Lo, Hi float64
	Log    bool
	Ticks  []float64
}

// NewAxis returns the axis for values; negative and zero values are ignored for the choice of a
// log scale and drawn at the start of the axis.
func NewAxis(values []float64) Axis {
	lo, hi := math.Inf(1), 0.0
	for _, v := range values {
		if v > 0 {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi == 0 {
		return linearAxis(1)
	}
	if hi/lo < 10 {
		return linearAxis(hi)
	}
	return logAxis(lo, hi)
}

// linearAxis runs from 0 to a multiple of a 1-2-5 step at or above hi, in 2 to 5 steps.
func linearAxis(hi float64) Axis {
	raw := hi / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw*(1-1e-9) {
			step = m * mag
			break
		}
	}
	n := math.Ceil(hi/step - 1e-9)
	a := Axis{Lo: 0, Hi: roundTick(n * step)}
	for i := 0.0; i <= n; i++ {
		a.Ticks = append(a.Ticks, roundTick(i*step))
	}
	return a
}

// logAxis runs between the decades around lo and hi; a span of one decade gets 2 and 5 ticks too.
func logAxis(lo, hi float64) Axis {
	a := Axis{Log: true, Lo: math.Pow(10, math.Floor(math.Log10(lo)+1e-9)), Hi: math.Pow(10, math.Ceil(math.Log10(hi)-1e-9))}
	for d := a.Lo; d <= a.Hi*(1+1e-9); d *= 10 {
		a.Ticks = append(a.Ticks, roundTick(d))
	}
	if len(a.Ticks) < 3 {
		a.Ticks = []float64{a.Lo, roundTick(2 * a.Lo), roundTick(5 * a.Lo), a.Hi}
	}
	return a
}

// roundTick removes the floating-point dust of repeated multiplication (0.30000000000000004).
func roundTick(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	return r
}

// Pos maps v onto [0, length].
func (a Axis) Pos(v, length float64) float64 {
	if v <= a.Lo {
		return 0
	}
	if a.Log {
		return min(length, length*(math.Log10(v)-math.Log10(a.Lo))/(math.Log10(a.Hi)-math.Log10(a.Lo)))
	}
	return min(length, length*(v-a.Lo)/(a.Hi-a.Lo))
}

// Caption names the axis: what it measures, and its scale if that is not linear.
func (a Axis) Caption(what string) string {
	if a.Log {
		return what + " (log scale)"
	}
	return what
}

// svgWriter builds one chart.
type svgWriter struct{ strings.Builder }

func (s *svgWriter) open(width, height int, title string) {
	fmt.Fprintf(s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="%d">`+"\n",
		width, height, width, height, FontSize)
	fmt.Fprintf(s, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(s, `<text class="title" x="10" y="24" font-size="%d" font-weight="bold">%s</text>`+"\n", TitleSize, html.EscapeString(title))
}

// text writes a text element; anchor is start, middle or end.
func (s *svgWriter) text(class string, x, y float64, anchor, fill, body string) {
	fmt.Fprintf(s, `<text class="%s" x="%.2f" y="%.2f" text-anchor="%s" fill="%s">%s</text>`+"\n", class, x, y, anchor, fill, html.EscapeString(body))
}

const (
	inkColor  = "#24292f"
	axisColor = "#57606a"
	gridColor = "#e1e4e8"
	oursColor = "#1f6feb"
	peerColor = "#9aa5b1"
)

// BarChart draws horizontal bars, one a label, against an axis chosen by [NewAxis]; caption says
// what the values are ("ns per item"). Every bar is a rect with class "bar" and data-label and
// data-value attributes, so a test can check it against the table.
func BarChart(title, caption string, bars []Bar) string {
	values := make([]float64, len(bars))
	labelW, valueW := textWidth("implementation", FontSize), 0.0
	for i, b := range bars {
		values[i] = b.Value
		labelW = max(labelW, textWidth(b.Label, FontSize))
		valueW = max(valueW, textWidth(FormatValue(b.Value), FontSize))
	}
	ax := NewAxis(values)
	for _, t := range ax.Ticks {
		valueW = max(valueW, textWidth(tickLabel(t), FontSize)/2)
	}
	left := math.Ceil(max(labelW+18, 40))
	plotW := float64(ChartWidth) - left - valueW - 24
	const top = 52
	axisY := top + len(bars)*(barHeight+barGap)
	height := axisY + 48
	var s svgWriter
	s.open(ChartWidth, height, title)
	lastEnd := math.Inf(-1)
	for _, t := range ax.Ticks {
		x := left + ax.Pos(t, plotW)
		fmt.Fprintf(&s, `<line x1="%.2f" y1="%d" x2="%.2f" y2="%d" stroke="%s"/>`+"\n", x, top-4, x, axisY, gridColor)
		// Label a tick only if its label clears the one before; the grid line stays.
		if half := textWidth(tickLabel(t), FontSize) / 2; x-half >= lastEnd+8 {
			s.text("tick x", x, float64(axisY+16), "middle", axisColor, tickLabel(t))
			lastEnd = x + half
		}
	}
	s.text("caption x", left+plotW/2, float64(axisY+36), "middle", axisColor, ax.Caption(caption))
	s.text("caption y", left-8, top-10, "end", axisColor, "implementation")
	for i, b := range bars {
		y := top + i*(barHeight+barGap)
		w := ax.Pos(b.Value, plotW)
		fill := peerColor
		if b.Ours {
			fill = oursColor
		}
		s.text("label", left-8, float64(y+barHeight-6), "end", inkColor, b.Label)
		fmt.Fprintf(&s, `<rect class="bar" data-label="%s" data-value="%g" x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"/>`+"\n",
			html.EscapeString(b.Label), b.Value, left, y, w, barHeight, fill)
		s.text("value", left+w+6, float64(y+barHeight-6), "start", inkColor, FormatValue(b.Value))
	}
	s.WriteString("</svg>\n")
	return s.String()
}

// Series is one line of a line chart: a value for each x.
type Series struct {
	Label  string
	Values []float64
	Ours   bool // drawn thicker
	Dashed bool // a reference line (an ideal, a baseline)
}

// Palette holds the series colours of line charts, all distinct and readable on white. The
// series named in SeriesColors take their own colour in every chart; other series take the
// colours no series of the chart has, and a chart with more series than colours starts again
// with dash patterns, so no two series of a chart look the same.
var Palette = []string{"#1b1f24", "#d1242f", "#1f6feb", "#8250df", "#9a6700", "#0598bc", "#bf3989", "#bc4c00", "#0e8a16", "#6e7781", "#cf222e", "#116329"}

// SeriesColors names the series whose colour is fixed: SeriesColors[i] is drawn in Palette[i],
// so that an implementation has the same colour in every chart of the report.
var SeriesColors = []string{"direct", "pipe", "pool", "group", "rill", "conc", "pond", "errgroup", "promise", "ideal", "hand", "goroutine"}

type style struct{ color, dash string }

// styles gives each series its colour and dash pattern (see [Palette]).
func styles(series []Series) []style {
	out := make([]style, len(series))
	used := map[style]bool{}
	taken := make([]bool, len(Palette))
	pick := func(k, c int) {
		for round := 0; ; round++ {
			n := 2 * round
			if series[k].Dashed {
				n++
			}
			st := style{color: Palette[c]}
			if n > 0 {
				st.dash = fmt.Sprintf("%d %d", 2*n+2, 3+n%2)
			}
			if !used[st] {
				used[st], out[k] = true, st
				return
			}
		}
	}
	done := make([]bool, len(series))
	for k, sr := range series {
		if c := slices.Index(SeriesColors, sr.Label); c >= 0 && c < len(Palette) && !taken[c] {
			taken[c], done[k] = true, true
			pick(k, c)
		}
	}
	for k := range series {
		if done[k] {
			continue
		}
		c := slices.Index(taken, false)
		if c < 0 {
			c = k % len(Palette)
		} else {
			taken[c] = true
		}
		pick(k, c)
	}
	return out
}

// LineChart draws series against categorical xs, evenly spaced, on a value axis chosen by
// [NewAxis]; xCaption and yCaption say what each axis is. Every point is a circle with class
// "point" and data-series, data-x and data-value attributes. Each series is labelled at its last
// point; labels that would overlap are moved apart, with a leader line to their point. A value
// that is NaN is no point (a measurement that has none, such as a rate a design did not reach):
// the line joins the points around it, and a series with no point at all is left out.
func LineChart(title, xCaption, yCaption string, xs []string, series []Series) string {
	var values []float64
	labelW := 0.0
	for _, sr := range series {
		if len(sr.Values) != len(xs) {
			panic(fmt.Sprintf("report: series %q has %d values for %d xs", sr.Label, len(sr.Values), len(xs)))
		}
	}
	series = slices.DeleteFunc(slices.Clone(series), func(sr Series) bool {
		return !slices.ContainsFunc(sr.Values, func(v float64) bool { return !math.IsNaN(v) })
	})
	for _, sr := range series {
		for _, v := range sr.Values {
			if !math.IsNaN(v) {
				values = append(values, v)
			}
		}
		labelW = max(labelW, textWidth(sr.Label, FontSize))
	}
	ax := NewAxis(values)
	tickW := 0.0
	for _, t := range ax.Ticks {
		tickW = max(tickW, textWidth(tickLabel(t), FontSize))
	}
	const top, plotH, pad = 60.0, 300.0, 24.0
	left := math.Ceil(tickW + 16)
	plotW := float64(ChartWidth) - left - labelW - 40
	height := int(top + plotH + 52)
	x := func(i int) float64 {
		if len(xs) == 1 {
			return left + plotW/2
		}
		return left + pad + float64(i)*(plotW-2*pad)/float64(len(xs)-1)
	}
	y := func(v float64) float64 { return top + plotH - ax.Pos(v, plotH) }

	var s svgWriter
	s.open(ChartWidth, height, title)
	s.text("caption y", 10, top-14, "start", axisColor, ax.Caption(yCaption))
	for _, t := range ax.Ticks {
		fmt.Fprintf(&s, `<line x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f" stroke="%s"/>`+"\n", left, y(t), left+plotW, y(t), gridColor)
		s.text("tick y", left-6, y(t)+4, "end", axisColor, tickLabel(t))
	}
	for i, label := range xs {
		s.text("tick x", x(i), top+plotH+18, "middle", axisColor, label)
	}
	s.text("caption x", left+plotW/2, top+plotH+40, "middle", axisColor, xCaption)

	ends := make([]float64, len(series))
	lastXs := make([]float64, len(series))
	for k, sr := range series {
		last := len(sr.Values) - 1
		for math.IsNaN(sr.Values[last]) {
			last--
		}
		ends[k], lastXs[k] = y(sr.Values[last])+4, x(last)
	}
	labelYs := spread(ends, FontSize+3, top+4, top+plotH+4)
	looks := styles(series)
	for k, sr := range series {
		color, dash := looks[k].color, ""
		if looks[k].dash != "" {
			dash = ` stroke-dasharray="` + looks[k].dash + `"`
		}
		var pts []string
		for i, v := range sr.Values {
			if !math.IsNaN(v) {
				pts = append(pts, fmt.Sprintf("%.2f,%.2f", x(i), y(v)))
			}
		}
		width := 1.5
		if sr.Ours {
			width = 3
		}
		fmt.Fprintf(&s, `<polyline class="series" data-series="%s" fill="none" stroke="%s" stroke-width="%g"%s points="%s"/>`+"\n",
			html.EscapeString(sr.Label), color, width, dash, strings.Join(pts, " "))
		for i, v := range sr.Values {
			if math.IsNaN(v) {
				continue
			}
			fmt.Fprintf(&s, `<circle class="point" data-series="%s" data-x="%s" data-value="%g" cx="%.2f" cy="%.2f" r="3" fill="%s"/>`+"\n",
				html.EscapeString(sr.Label), html.EscapeString(xs[i]), v, x(i), y(v), color)
		}
		lx := left + plotW + 14
		if math.Abs(labelYs[k]-ends[k]) > 1 || lastXs[k] < x(len(xs)-1) {
			fmt.Fprintf(&s, `<line x1="%.2f" y1="%.2f" x2="%.2f" y2="%.2f" stroke="%s" stroke-width="0.75"/>`+"\n",
				lastXs[k]+4, ends[k]-4, lx-3, labelYs[k]-4, color)
		}
		s.text("label", lx, labelYs[k], "start", color, sr.Label)
	}
	s.WriteString("</svg>\n")
	return s.String()
}

// spread moves the baselines ys of labels apart so that they are at least gap apart, keeping each
// as near its wish as it can, within [lo, hi] when they fit there. It keeps the order of the
// wishes.
func spread(ys []float64, gap, lo, hi float64) []float64 {
	idx := make([]int, len(ys))
	for i := range idx {
		idx[i] = i
	}
	// Insertion sort by wish: a chart has a handful of series.
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && ys[idx[j]] < ys[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	out := make([]float64, len(ys))
	prev := math.Inf(-1)
	for _, i := range idx {
		out[i] = max(ys[i], prev+gap, lo)
		prev = out[i]
	}
	// Pushed past the bottom: move the tail back up, keeping the gaps.
	next := math.Inf(1)
	for j := len(idx) - 1; j >= 0; j-- {
		i := idx[j]
		out[i] = min(out[i], next-gap, hi)
		next = out[i]
	}
	// Pushed above the top when they do not all fit: stack them down from the top instead.
	if len(idx) > 0 && out[idx[0]] < lo {
		for j, i := range idx {
			out[i] = lo + float64(j)*gap
		}
	}
	return out
}

// tickLabel prints a round tick value briefly: 0.5, 20, 1,000, 100,000.
func tickLabel(v float64) string {
	if v >= 1000 && v == math.Trunc(v) {
		return FormatCount(v)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// FormatValue prints a measured value with three significant figures at most, as the tables do.
func FormatValue(v float64) string {
	switch {
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
