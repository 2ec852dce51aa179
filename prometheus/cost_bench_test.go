//go:build unix

package prometheus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/pool"
	stageprom "github.com/stagecoach-go/stagecoach/prometheus"
)

// BenchmarkCost runs W1 (4 trivial stages, 200k items) and W2 (4 stages of about 2 us of CPU,
// 20k items; a tenth of each with -short) through pool.Run and an fsm.Machine, as bench.Pool
// does: bare is the machine without an adapter (bench's own), metrics with the stage histogram
// and counter, metrics+pool the same through a Pool's counters.
func BenchmarkCost(b *testing.B) {
	w1, w2 := bench.W1(false), bench.W2(false)
	w1.Items = bench.Size(testing.Short(), 200_000, 20_000)
	w2.Items = bench.Size(testing.Short(), 20_000, 2_000)
	for _, w := range []bench.Workload{w1, w2} {
		for _, c := range []struct {
			name             string
			metrics, counted bool
		}{{"bare", false, false}, {"metrics", true, false}, {"metrics+pool", true, true}} {
			b.Run(fmt.Sprintf("%s/%s", w.Name, c.name), func(b *testing.B) {
				measure(b, w, costRun(b, w, c.metrics, c.counted))
			})
		}
	}
}

func costRun(b *testing.B, w bench.Workload, metrics, counted bool) bench.Run {
	work := bench.Work(w)
	var p *stageprom.Pool[bench.Item]
	if metrics {
		c, err := stageprom.New(prometheus.NewRegistry())
		if err != nil {
			b.Fatal(err)
		}
		fb := fsm.NewBuilder[int, bench.Item]()
		for i, stage := range w.Stages {
			fb.Step(i, stage, i+1)
		}
		if err := stageprom.NewMachine[int, bench.Item](c, "bench").Attach(fb.Terminal(len(w.Stages))); err != nil {
			b.Fatal(err)
		}
		m, err := fb.Build(0)
		if err != nil {
			b.Fatal(err)
		}
		work = m.Do
		if counted {
			if p, err = stageprom.NewPool[bench.Item](c, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	}
	return func(w bench.Workload) error {
		sink := w.NewSink(0)
		results := pool.Run(context.Background(), w.Source(0), work)
		if p != nil {
			results = p.Run(context.Background(), w.Source(0), work)
		}
		for it, err := range results {
			sink.Add(it, err)
		}
		return errors.Join(sink.Err())
	}
}
