package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Bar is one bar of a bar chart.
type Bar struct {
	Label string
	Value float64
	Ours  bool // drawn in the accent colour
}

// Geometry of the charts; exported for the tests that check bars against values.
const (
	ChartWidth = 720
	LabelWidth = 110
	BarHeight  = 22
	BarGap     = 8
	PlotWidth  = ChartWidth - LabelWidth - 90
)

// LogScale maps a value onto [0, width] on a log10 axis from lo to hi.
func LogScale(v, lo, hi, width float64) float64 {
	if v <= lo {
		return 0
	}
	return width * (math.Log10(v) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
}

// Bounds returns decade bounds around the values, for a log axis.
func Bounds(values []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), 0
	for _, v := range values {
		if v > 0 {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi == 0 {
		return 1, 10
	}
	return math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)+1e-9))
}

// BarChart draws horizontal bars on a log scale. Every bar is a rect with class "bar" and
// data-label and data-value attributes, so a test can check it against the table.
func BarChart(title, unit string, bars []Bar) string {
	values := make([]float64, len(bars))
	for i, b := range bars {
		values[i] = b.Value
	}
	lo, hi := Bounds(values)
	height := 50 + len(bars)*(BarHeight+BarGap) + 30
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		ChartWidth, height, ChartWidth, height)
	fmt.Fprintf(&s, `<rect width="%d" height="%d" fill="white"/>`+"\n", ChartWidth, height)
	fmt.Fprintf(&s, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", 10, html.EscapeString(title))
	axis(&s, lo, hi, 40, height-30, unit)
	for i, b := range bars {
		y := 40 + i*(BarHeight+BarGap)
		w := LogScale(b.Value, lo, hi, PlotWidth)
		fill := "#9aa5b1"
		if b.Ours {
			fill = "#1f6feb"
		}
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", LabelWidth-8, y+BarHeight-6, html.EscapeString(b.Label))
		fmt.Fprintf(&s, `<rect class="bar" data-label="%s" data-value="%g" x="%d" y="%d" width="%.2f" height="%d" fill="%s"/>`+"\n",
			html.EscapeString(b.Label), b.Value, LabelWidth, y, w, BarHeight, fill)
		fmt.Fprintf(&s, `<text x="%.2f" y="%d">%s</text>`+"\n", float64(LabelWidth)+w+6, y+BarHeight-6, formatValue(b.Value))
	}
	s.WriteString("</svg>\n")
	return s.String()
}

// axis draws the decade grid lines of a log axis between y0 and y1.
func axis(s *strings.Builder, lo, hi float64, y0, y1 int, unit string) {
	for d := lo; d <= hi*1.0001; d *= 10 {
		x := float64(LabelWidth) + LogScale(d, lo, hi, PlotWidth)
		fmt.Fprintf(s, `<line x1="%.2f" y1="%d" x2="%.2f" y2="%d" stroke="#e1e4e8"/>`+"\n", x, y0-4, x, y1)
		fmt.Fprintf(s, `<text x="%.2f" y="%d" text-anchor="middle" fill="#57606a">%s</text>`+"\n", x, y1+16, formatValue(d))
	}
	fmt.Fprintf(s, `<text x="%d" y="%d" fill="#57606a">%s (log scale)</text>`+"\n", LabelWidth+PlotWidth+10, y1+16, html.EscapeString(unit))
}

// Series is one line of a line chart: a value for each x.
type Series struct {
	Label  string
	Values []float64
	Ours   bool
}

var palette = []string{"#1f6feb", "#0e8a16", "#8250df", "#bf3989", "#d1242f", "#9a6700", "#57606a", "#116329", "#953800"}

// LineChart draws series against categorical xs on a log y axis. Every point is a circle with
// class "point" and data-series, data-x and data-value attributes.
func LineChart(title, unit string, xs []string, series []Series) string {
	var values []float64
	for _, sr := range series {
		values = append(values, sr.Values...)
	}
	lo, hi := Bounds(values)
	const height, top, plotH, left = 420, 40, 320, 70
	plotW := ChartWidth - left - 150
	x := func(i int) float64 { return left + float64(i)*float64(plotW)/float64(max(1, len(xs)-1)) }
	y := func(v float64) float64 { return top + plotH - LogScale(v, lo, hi, plotH) }
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		ChartWidth, height, ChartWidth, height)
	fmt.Fprintf(&s, `<rect width="%d" height="%d" fill="white"/>`+"\n", ChartWidth, height)
	fmt.Fprintf(&s, `<text x="10" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	for d := lo; d <= hi*1.0001; d *= 10 {
		fmt.Fprintf(&s, `<line x1="%d" y1="%.2f" x2="%d" y2="%.2f" stroke="#e1e4e8"/><text x="%d" y="%.2f" text-anchor="end" fill="#57606a">%s</text>`+"\n",
			left, y(d), left+plotW, y(d), left-6, y(d)+4, formatValue(d))
	}
	for i, label := range xs {
		fmt.Fprintf(&s, `<text x="%.2f" y="%d" text-anchor="middle" fill="#57606a">%s</text>`+"\n", x(i), top+plotH+18, html.EscapeString(label))
	}
	fmt.Fprintf(&s, `<text x="%d" y="%d" fill="#57606a">%s (log scale)</text>`+"\n", left, top+plotH+38, html.EscapeString(unit))
	for k, sr := range series {
		color := palette[k%len(palette)]
		var pts []string
		for i, v := range sr.Values {
			pts = append(pts, fmt.Sprintf("%.2f,%.2f", x(i), y(v)))
		}
		width := 1.5
		if sr.Ours {
			width = 3
		}
		fmt.Fprintf(&s, `<polyline fill="none" stroke="%s" stroke-width="%g" points="%s"/>`+"\n", color, width, strings.Join(pts, " "))
		for i, v := range sr.Values {
			fmt.Fprintf(&s, `<circle class="point" data-series="%s" data-x="%s" data-value="%g" cx="%.2f" cy="%.2f" r="3" fill="%s"/>`+"\n",
				html.EscapeString(sr.Label), html.EscapeString(xs[i]), v, x(i), y(v), color)
		}
		fmt.Fprintf(&s, `<text x="%d" y="%.2f" fill="%s">%s</text>`+"\n", left+plotW+10, y(sr.Values[len(sr.Values)-1])+4, color, html.EscapeString(sr.Label))
	}
	s.WriteString("</svg>\n")
	return s.String()
}

func formatValue(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
