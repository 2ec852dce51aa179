package otel_test

import (
	"context"
	"testing"
	"time"

	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/otel"
)

// BenchmarkHook splits what a run of the test machine's three stages costs with each adapter:
// bare (no Observer), empty (a Leave hook that does nothing, for which the machine reads the
// clock twice a stage: the fsm Observer's own cost), metrics (the stage histogram and counter
// added to it), events (a span a run, an event a stage) and stagespans (a span a run and a
// stage), on one goroutine and on all (parallel). Spans are recorded and not exported.
func BenchmarkHook(b *testing.B) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		make func(b *testing.B) func(context.Context, int) (int, error)
	}{
		{"bare", func(b *testing.B) func(context.Context, int) (int, error) {
			m, _ := builder().Build(Parse)
			return m.Do
		}},
		{"empty", func(b *testing.B) func(context.Context, int) (int, error) {
			bb := builder()
			bb.Observe(fsm.Observer[State]{Leave: func(context.Context, State, State, time.Duration, error) {}})
			m, _ := bb.Build(Parse)
			return m.Do
		}},
		{"metrics", func(b *testing.B) func(context.Context, int) (int, error) {
			r := newRig(b)
			tel, _ := otel.New(otel.WithMeterProvider(r.mp))
			return machineOn(b, tel)
		}},
		{"events", func(b *testing.B) func(context.Context, int) (int, error) {
			r := newRig(b)
			tel, _ := otel.New(otel.WithTracerProvider(r.bare))
			return machineOn(b, tel)
		}},
		{"stagespans", func(b *testing.B) func(context.Context, int) (int, error) {
			r := newRig(b)
			tel, _ := otel.New(otel.WithTracerProvider(r.bare))
			return machineOn(b, tel, otel.StageSpans())
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			run := c.make(b)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = run(ctx, 1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/item")
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			run := c.make(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, _ = run(ctx, 1)
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/item")
		})
	}
}

func machineOn(b *testing.B, tel *otel.Telemetry, opts ...otel.MachineOption) func(context.Context, int) (int, error) {
	om := otel.NewMachine[State, int](tel, "m", opts...)
	bb := builder()
	if err := om.Attach(bb); err != nil {
		b.Fatal(err)
	}
	m, err := bb.Build(Parse)
	if err != nil {
		b.Fatal(err)
	}
	return om.Do(m)
}
