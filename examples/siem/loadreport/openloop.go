package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stagecoach-go/stagecoach/examples/siem/loadgen"
)

// openOptions are the open-loop flags.
type openOptions struct {
	conns    int           // connections, and the clients of the capacity runs
	duration time.Duration // how long requests arrive in a run
	loads    []int         // percent of the capacity
}

// openDesigns are the designs the open loop compares, in report order.
var openDesigns = []string{"group", "pipe"}

// openPoint is one open-loop run: a design at a load.
type openPoint struct {
	Design string
	Load   int     // percent of the capacity
	Rate   float64 // requests a second
	Rep    loadgen.Report
	Ver    loadgen.Verification
}

// openResult is what the open-loop part measured.
type openResult struct {
	Capacity map[string][]measurement // by design: the closed-loop capacity runs
	Rate     float64                  // requests a second at 100 %: the higher design's median capacity
	Runs     [][]openPoint            // by design and load (report order), every run
}

// capacityOf is a design's median capacity in requests a second.
func (r openResult) capacityOf(design string, batch int) float64 {
	return median(r.Capacity[design]).Rep.EventsPerSec / float64(batch)
}

func parseLoads(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1000 {
			return nil, fmt.Errorf("-loads %q: %q is not a percentage from 1 to 1000", s, f)
		}
		out = append(out, n)
	}
	return out, nil
}

// openLoop measures each design's capacity, closed loop at o.open.conns clients, then runs every
// design at every load of the higher capacity, o.runs times, interleaved: in run r, both designs
// get the same Poisson schedule at a load, so they are offered the same arrivals.
func openLoop(bin, tmp string, o options, log io.Writer) (openResult, error) {
	res := openResult{Capacity: map[string][]measurement{}}
	for r := range o.runs {
		for _, d := range openDesigns {
			sc := scenario{Table: "capacity", Design: d, Clients: o.open.conns, SQLite: "batch", Workers: defaultWorkers[d]}
			m, err := measure(bin, filepath.Join(tmp, fmt.Sprintf("cap-r%d-%s.db", r, d)), sc, o.n, o.batch)
			if err != nil {
				return res, fmt.Errorf("capacity of %s: %w", d, err)
			}
			if !m.Ver.ExactlyOnce() || m.Rep.Errors > 0 {
				return res, fmt.Errorf("capacity of %s: %v, %d request errors (first: %s)", d, m.Ver, m.Rep.Errors, m.Rep.FirstError)
			}
			fmt.Fprintf(log, "run %d: capacity %-5s c=%-3d %7.0f events/s\n", r+1, d, sc.Clients, m.Rep.EventsPerSec)
			res.Capacity[d] = append(res.Capacity[d], m)
		}
	}
	for _, d := range openDesigns {
		res.Rate = max(res.Rate, res.capacityOf(d, o.batch))
	}
	res.Runs = make([][]openPoint, len(openDesigns)*len(o.open.loads))
	for r := range o.runs {
		for li, load := range o.open.loads {
			for di, d := range openDesigns {
				p, err := measureOpen(bin, filepath.Join(tmp, fmt.Sprintf("open-r%d-%d-%s.db", r, load, d)), d, load, res.Rate, r, o)
				if err != nil {
					return res, fmt.Errorf("open loop, %s at %d%%: %w", d, load, err)
				}
				fmt.Fprintf(log, "run %d: open %-5s %3d%% %s; %v\n", r+1, d, load, p.Rep.Outcome(), p.Ver)
				if !p.Ver.ExactlyOnce() || p.Rep.Errors > 0 {
					return res, fmt.Errorf("open loop, %s at %d%%: %v, %d request errors (first: %s)", d, load, p.Ver, p.Rep.Errors, p.Rep.FirstError)
				}
				i := li*len(openDesigns) + di
				res.Runs[i] = append(res.Runs[i], p)
			}
		}
	}
	return res, nil
}

// measureOpen runs design d open loop at load percent of capacity (requests a second) against a
// fresh service process; run r seeds the schedule.
func measureOpen(bin, db, d string, load int, capacity float64, r int, o options) (openPoint, error) {
	p := openPoint{Design: d, Load: load, Rate: capacity * float64(load) / 100}
	args := []string{"-design", d, "-sqlite", "batch", "-workers", fmt.Sprint(defaultWorkers[d])}
	rep, ver, err := against(bin, db, args, func(url, key string) (loadgen.Report, error) {
		return loadgen.RunOpen(context.Background(), loadgen.Config{URL: url, Key: key, Clients: o.open.conns,
			Batch: o.batch, Rate: p.Rate, Duration: o.open.duration, Arrivals: loadgen.Poisson, Seed: uint64(r + 1),
			Timeout: 3*o.open.duration + time.Minute})
	})
	p.Rep, p.Ver = rep, ver
	return p, err
}

// p99Key orders runs by p99, a run that did not reach its rate after every run that did.
func p99Key(p openPoint) time.Duration {
	if !p.Rep.Reached {
		return math.MaxInt64
	}
	return p.Rep.P99
}

// medianOpen returns the run with the median p99 (the lower middle of an even count), a run that
// did not reach its rate counting as the worst, and how many of the runs reached it.
func medianOpen(runs []openPoint) (openPoint, int) {
	s := slices.Clone(runs)
	slices.SortStableFunc(s, func(a, b openPoint) int { return cmp.Compare(p99Key(a), p99Key(b)) })
	reached := 0
	for _, p := range runs {
		if p.Rep.Reached {
			reached++
		}
	}
	return s[(len(s)-1)/2], reached
}
