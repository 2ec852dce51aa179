package prometheus_test

import (
	"context"
	"testing"
	"time"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// BenchmarkHook splits a stage's record into what the machine's Observer costs (empty: a Leave
// hook that does nothing, for which the machine reads the clock twice a stage) and what this
// package adds to it (adapter), on one goroutine and on all (parallel), for a run of the test
// machine's three stages.
func BenchmarkHook(b *testing.B) {
	ctx := context.Background()
	empty := func() *fsm.Machine[State, int] {
		bb := builder()
		bb.Observe(fsm.Observer[State]{Leave: func(context.Context, State, State, time.Duration, error) {}})
		m, err := bb.Build(Parse)
		if err != nil {
			b.Fatal(err)
		}
		return m
	}
	for _, c := range []struct {
		name string
		make func(b *testing.B) *fsm.Machine[State, int]
	}{
		{"bare", func(b *testing.B) *fsm.Machine[State, int] { m, _ := builder().Build(Parse); return m }},
		{"empty", func(*testing.B) *fsm.Machine[State, int] { return empty() }},
		{"adapter", func(b *testing.B) *fsm.Machine[State, int] { _, c := newCollector(b); return machine(b, c, "m") }},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := c.make(b)
			for b.Loop() {
				_, _, _ = m.Run(ctx, 1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/item")
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			m := c.make(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					_, _, _ = m.Run(ctx, 1)
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/item")
		})
	}
}
