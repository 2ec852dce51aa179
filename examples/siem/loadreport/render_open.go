package main

import (
	"fmt"
	"html"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/stagecoach-go/stagecoach/examples/siem/loadgen"
)

// openRow is a row of the open-loop table: the median run of a design at a load.
type openRow struct {
	openPoint
	reached, runs int
}

func (r openResult) rows() []openRow {
	var out []openRow
	for _, runs := range r.Runs {
		if len(runs) == 0 {
			continue
		}
		m, reached := medianOpen(runs)
		out = append(out, openRow{m, reached, len(runs)})
	}
	return out
}

// openTables renders the open-loop measurements as Markdown.
func openTables(res openResult, o options) string {
	var b strings.Builder
	var caps []string
	for _, d := range openDesigns {
		caps = append(caps, fmt.Sprintf("%s %.0f", d, res.capacityOf(d, o.batch)*float64(o.batch)))
	}
	fmt.Fprintf(&b, "**Open loop** (Poisson arrivals for %v a run over %d connections, %d events a request. Just before, "+
		"each design's capacity, closed loop at %d clients, median of %d runs: %s events/s; the loads are percent of the higher, "+
		"so both designs are offered the same rates, and the same schedules. Latency runs from each request's scheduled start. "+
		"Each row is the median of %d interleaved runs by p99, a run that did not reach its rate (achieved below %.0f%% of offered) "+
		"counting as the worst; such a row gives no latency. Target: the rate asked for; offered: what the median run's Poisson schedule "+
		"offered (within a few percent of the target); achieved: its accepted events answered by the end of the arrivals, a second.)\n\n",
		o.open.duration, o.open.conns, o.batch, o.open.conns, o.runs, strings.Join(caps, ", "), o.runs, 100*loadgen.Reached)
	b.WriteString("| load | target events/s | design | offered events/s | achieved events/s | p50 ms | p99 ms | p99.9 ms | runs reached | exactly once |\n")
	b.WriteString("|---:|---:|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range res.rows() {
		lat := "not reached | – | –"
		if r.Rep.Reached {
			lat = millis(r.Rep.P50) + " | " + millis(r.Rep.P99) + " | " + millis(r.Rep.P999)
		}
		fmt.Fprintf(&b, "| %d%% | %.0f | %s | %.0f | %.0f | %s | %d of %d | %s |\n", r.Load, r.Rate*float64(r.Rep.Batch),
			r.Design, r.Rep.Offered*float64(r.Rep.Batch), r.Rep.Achieved*float64(r.Rep.Batch), lat, r.reached, r.runs, onceOf(r.Ver))
	}
	b.WriteString("\n")
	return b.String()
}

// openChart draws p99 (solid) and p50 (dashed) latency, log scale, against the target events
// a second, one line a design; a median run that did not reach its rate is a cross near the top
// edge (a row of crosses a design), and breaks the line. Dotted verticals mark each design's capacity.
func openChart(res openResult) string {
	const w, h, left, right, bottom, top = 680, 360, 70, 30, 46, 50
	rows := res.rows()
	xMax, lo, hi := 1.0, math.Inf(1), 0.0
	for _, r := range rows {
		xMax = maxf(xMax, r.Rate*float64(r.Rep.Batch))
		if r.Rep.Reached {
			lo, hi = math.Min(lo, ms(r.Rep.P50)), maxf(hi, ms(r.Rep.P99))
		}
	}
	for _, runs := range res.Capacity {
		xMax = maxf(xMax, median(runs).Rep.EventsPerSec)
	}
	step := niceCeil(xMax) / 10
	xMax = math.Ceil(xMax/step) * step
	if hi == 0 { // nothing reached
		lo, hi = 1, 10
	}
	yLo, yHi := math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
	if yHi <= yLo {
		yHi = yLo * 10
	}
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	x := func(v float64) float64 { return float64(left) + plotW*v/xMax }
	y := func(v float64) float64 {
		return float64(h-bottom) - plotH*(math.Log10(v)-math.Log10(yLo))/(math.Log10(yHi)-math.Log10(yLo))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="14" font-weight="bold">SIEM intake, open loop: request latency against offered load</text>`+"\n", left)
	for d := yLo; d < yHi*1.001; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := d * m
			if v > yHi*1.001 {
				break
			}
			fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e0e0e0"/>`+"\n", left, w-right, y(v), y(v))
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s ms</text>`+"\n", left-6, y(v)+4, trimFloat(v))
		}
	}
	for v := 0.0; v <= xMax*1.001; v += step {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#e0e0e0"/>`+"\n", x(v), x(v), top, h-bottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%.0f</text>`+"\n", x(v), h-bottom+16, v)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">offered events/s</text>`+"\n", float64(left)+plotW/2, h-bottom+32)
	for i, d := range openDesigns {
		c := designColors[d]
		if runs := res.Capacity[d]; len(runs) > 0 {
			cx := x(median(runs).Rep.EventsPerSec)
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s" stroke-dasharray="1 3"><title>%s capacity (closed loop): %.0f events/s</title></line>`+"\n",
				cx, cx, top, h-bottom, c, d, median(runs).Rep.EventsPerSec)
		}
		var p99, p50 []string
		flush := func() {
			for _, l := range []struct {
				pts  []string
				dash string
			}{{p99, ""}, {p50, ` stroke-dasharray="5 4"`}} {
				if len(l.pts) > 1 {
					fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", c, l.dash, strings.Join(l.pts, " "))
				}
			}
			p99, p50 = nil, nil
		}
		for _, r := range rows {
			if r.Design != d {
				continue
			}
			ox := x(r.Rate * float64(r.Rep.Batch))
			if !r.Rep.Reached {
				flush()
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="%s" font-size="14"><title>%s at %d%%: not reached (%.0f of %.0f events/s)</title>×</text>`+"\n",
					ox, top+4+12*i, c, html.EscapeString(d), r.Load, r.Rep.Achieved*float64(r.Rep.Batch), r.Rep.Offered*float64(r.Rep.Batch))
				continue
			}
			p99 = append(p99, fmt.Sprintf("%.1f,%.1f", ox, y(ms(r.Rep.P99))))
			p50 = append(p50, fmt.Sprintf("%.1f,%.1f", ox, y(ms(r.Rep.P50))))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s at %d%%: p99 %s ms, p50 %s ms</title></circle>`+"\n",
				ox, y(ms(r.Rep.P99)), c, html.EscapeString(d), r.Load, millis(r.Rep.P99), millis(r.Rep.P50))
		}
		flush()
		lx := left + 10 + i*150
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d">%s</text>`+"\n",
			lx, lx+18, top-12, top-12, c, lx+22, top-8, designLabels[d])
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#666">solid p99, dashed p50; × not reached; dotted: capacity</text>`+"\n", left+310, top-8)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" fill="#666">median of the runs; service and load generator on one %d-CPU machine</text>`+"\n", left, h-4, runtime.NumCPU())
	b.WriteString("</svg>\n")
	return b.String()
}

var (
	designColors = map[string]string{"group": "#2f6fb0", "pipe": "#e08a2c"}
	designLabels = map[string]string{"group": "fsm + group", "pipe": "pipe"}
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// trimFloat prints v without trailing zeros: 0.5, 2, 100.
func trimFloat(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}
