//go:build unix

package otel_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/otel"
	"github.com/stagecoach-go/stagecoach/pool"
)

// costCase is one way of running a workload: which adapters are on.
type costCase struct {
	name    string
	opts    func(b *testing.B) []otel.Option
	mopts   []otel.MachineOption
	counted bool // through an otel.Pool
	empty   bool // no adapter: an fsm.Observer whose Leave hook does nothing
}

func costCases() []costCase {
	none := func(*testing.B) []otel.Option { return nil }
	noop := func(*testing.B) []otel.Option {
		return []otel.Option{otel.WithTracerProvider(tracenoop.NewTracerProvider()), otel.WithMeterProvider(metricnoop.NewMeterProvider())}
	}
	metrics := func(b *testing.B) []otel.Option {
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
		return []otel.Option{otel.WithMeterProvider(mp)}
	}
	tracing := func(b *testing.B) []otel.Option {
		tp := sdktrace.NewTracerProvider() // spans recorded, sampled, not exported
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		return []otel.Option{otel.WithTracerProvider(tp)}
	}
	return []costCase{
		{name: "bare", opts: nil},
		{name: "empty-observer", empty: true},
		{name: "off", opts: none},
		{name: "noop", opts: noop},
		{name: "metrics", opts: metrics},
		{name: "metrics+pool", opts: metrics, counted: true},
		{name: "tracing-events", opts: tracing},
		{name: "tracing-stagespans", opts: tracing, mopts: []otel.MachineOption{otel.StageSpans()}},
	}
}

// BenchmarkCost runs W1 (4 trivial stages) and W2 (4 stages of about 2 us of CPU; see
// costWorkloads) through
// pool.Run and an fsm.Machine, as bench.Pool does, with each adapter on or off: bare is the
// machine without an adapter (bench's own), empty-observer the machine with a Leave hook that
// does nothing (the fsm Observer's own cost, which every adapter pays), off and noop an adapter with no provider or no-op
// ones, metrics the stage histogram and counter (an SDK meter provider with a manual reader,
// never collected during the run), metrics+pool the same through an otel.Pool's counters,
// tracing-* a span a run with an event or a child span a stage (an SDK tracer provider,
// sampling every span, exporting none).
func BenchmarkCost(b *testing.B) {
	for _, w := range costWorkloads() {
		for _, c := range costCases() {
			b.Run(fmt.Sprintf("%s/%s", w.Name, c.name), func(b *testing.B) {
				measure(b, w, costRun(b, w, c))
			})
		}
	}
}

// costWorkloads are bench's W1 and W2 with fewer items (200k and 20k; a tenth with -short), so
// that the traced cases, a hundred times slower, take seconds: the cost an item does not depend
// on the count.
func costWorkloads() []bench.Workload {
	w1, w2 := bench.W1(false), bench.W2(false)
	w1.Items = bench.Size(testing.Short(), 200_000, 20_000)
	w2.Items = bench.Size(testing.Short(), 20_000, 2_000)
	return []bench.Workload{w1, w2}
}

// costRun builds c's machine of w's stages and returns the run of the whole workload.
func costRun(b *testing.B, w bench.Workload, c costCase) bench.Run {
	fb := fsm.NewBuilder[int, bench.Item]()
	for i, stage := range w.Stages {
		fb.Step(i, stage, i+1)
	}
	fb.Terminal(len(w.Stages))
	work := bench.Work(w)
	var p *otel.Pool[bench.Item]
	if c.empty {
		fb.Observe(fsm.Observer[int]{Leave: func(context.Context, int, int, time.Duration, error) {}})
		m, err := fb.Build(0)
		if err != nil {
			b.Fatal(err)
		}
		work = m.Do
	}
	if c.opts != nil {
		tel, err := otel.New(c.opts(b)...)
		if err != nil {
			b.Fatal(err)
		}
		om := otel.NewMachine[int, bench.Item](tel, "bench", c.mopts...)
		if err := om.Attach(fb); err != nil {
			b.Fatal(err)
		}
		m, err := fb.Build(0)
		if err != nil {
			b.Fatal(err)
		}
		work = om.Do(m)
		if c.counted {
			if p, err = otel.NewPool[bench.Item](tel, "bench"); err != nil {
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
