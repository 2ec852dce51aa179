package prometheus_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/pool"
	stageprom "github.com/stagecoach-go/stagecoach/prometheus"
)

// A machine's stage metrics on a registry, as a scrape of /metrics would show them.
func ExampleNewMachine() {
	reg := prometheus.NewRegistry()
	c, err := stageprom.New(reg)
	if err != nil {
		panic(err)
	}
	b := builder()
	if err := stageprom.NewMachine[State, int](c, "orders").Attach(b); err != nil {
		panic(err)
	}
	m, err := b.Build(Parse)
	if err != nil {
		panic(err)
	}
	for range pool.Run(context.Background(), slices.Values([]int{1, 2, -3}), m.Do) {
	}

	mfs, err := reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			if mf.GetName() == "stagecoach_stage_items_total" && mt.GetCounter().GetValue() > 0 {
				fmt.Println(mf.GetName(), labels(mt.GetLabel()), mt.GetCounter().GetValue())
			}
			if mf.GetName() == "stagecoach_stage_duration_seconds" {
				fmt.Println(mf.GetName()+"_count", labels(mt.GetLabel()), mt.GetHistogram().GetSampleCount())
			}
		}
	}
	// Output:
	// stagecoach_stage_duration_seconds_count machine=orders state=Check 3
	// stagecoach_stage_duration_seconds_count machine=orders state=Parse 3
	// stagecoach_stage_duration_seconds_count machine=orders state=Store 2
	// stagecoach_stage_items_total machine=orders outcome=error state=Check 1
	// stagecoach_stage_items_total machine=orders outcome=ok state=Check 2
	// stagecoach_stage_items_total machine=orders outcome=ok state=Parse 3
	// stagecoach_stage_items_total machine=orders outcome=ok state=Store 2
}

// A router's counters, read at each scrape.
func ExampleCollector_ObserveRouter() {
	reg := prometheus.NewRegistry()
	c, err := stageprom.New(reg)
	if err != nil {
		panic(err)
	}
	r := group.New[string](func(_ context.Context, v int) (int, error) { return v * 2, nil })
	defer r.Shutdown(context.Background())
	stop, err := c.ObserveRouter("orders", r)
	if err != nil {
		panic(err)
	}
	defer stop()

	g, err := r.Open(context.Background(), "tenant-1") // the key is no label
	if err != nil {
		panic(err)
	}
	for v := range 3 {
		_ = g.Submit(context.Background(), v)
	}
	g.Close()
	for range g.Results() {
	}
	<-g.Done()

	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP stagecoach_router_items_completed_total Items of a router whose work func returned without error.
# TYPE stagecoach_router_items_completed_total counter
stagecoach_router_items_completed_total{router="orders"} 3
`), "stagecoach_router_items_completed_total")
	fmt.Println(err)
	// Output:
	// <nil>
}

func labels(ls []*dto.LabelPair) string {
	var parts []string
	for _, l := range ls {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, " ")
}

// A pool run's items counted, as a scrape would show them.
func ExampleNewPool() {
	reg := prometheus.NewRegistry()
	c, err := stageprom.New(reg)
	if err != nil {
		panic(err)
	}
	p, err := stageprom.NewPool[int](c, "batch")
	if err != nil {
		panic(err)
	}
	defer p.Close()
	for range p.Run(context.Background(), slices.Values([]int{1, 2, 3}), func(_ context.Context, v int) (int, error) { return v, nil }) {
	}
	fmt.Println(p.Stats().Submitted, p.Stats().Completed)
	// Output:
	// 3 3
}
