// Package prometheus exposes stagecoach metrics to Prometheus: a [Collector], registered on a
// registry the caller passes in, over the stage durations and outcomes of fsm.Machines and the
// counters of group.Routers and pool runs. Import it under another name than the client's:
//
//	import stageprom "github.com/stagecoach-go/stagecoach/prometheus"
//
//	c, err := stageprom.New(reg) // reg: a *prometheus.Registry, or prometheus.DefaultRegisterer
//	b := fsm.NewBuilder[State, Order]().Stage(...)...
//	if err := stageprom.NewMachine[State, Order](c, "orders").Attach(b); err != nil { ... }
//	m, err := b.Build(Validate)
//	r := group.New[string](m.Do)
//	stop, err := c.ObserveRouter("orders", r)
//
// # Metrics
//
// Names and help text follow Prometheus' naming rules (base units, _total for counters,
// _seconds for durations; testutil.GatherAndLint finds nothing to say):
//   - stagecoach_stage_duration_seconds, histogram {machine, state}, with [StageBuckets] (1 us
//     to 10 s; prometheus.DefBuckets start at 5 ms);
//   - stagecoach_stage_items_total, counter {machine, state, outcome}, outcome one of ok,
//     error and panic (a panic or a runtime.Goexit in the stage);
//   - stagecoach_router_items_{submitted,completed,failed}_total, counters {router},
//     stagecoach_router_items_{queued,in_flight} and stagecoach_router_groups_open, gauges
//     {router}, read from the router's Stats and Len at each scrape ([Collector.ObserveRouter]);
//   - the same stagecoach_pool_items_* {pool}, from a [Pool], which runs pool.Run and counts its
//     items (package pool keeps no counters).
//
// # Attaching
//
// A builder has one fsm.Observer: [Machine.Attach] sets the adapter's hooks and, after them,
// those of any other adapter given (the otel package's Machine.Observer, say). An adapter
// attaches once; a second Attach, another adapter of the same machine name, or a router or pool
// observed twice, is refused with [ErrAttached]. A nil registry or Collector panics, naming it.
//
// # Cardinality
//
// No label carries a value of an item or a group's key: a key per connection, tenant or request
// would make a series per key, which Prometheus keeps in memory and on disk for as long as it
// keeps the series, and which grows without bound. Machine, router and pool names and states
// are the caller's constants; a machine's series appear as its states first run. Per-group
// series are deliberately not offered; read a group's Stats for a few known groups by hand.
//
// # Cost
//
// A stage's record is a map lookup of its state, one histogram observation and one counter
// increment (atomics), and no allocation (TestStageMetricsAllocateNothing); the fsm.Observer
// itself adds two clock readings a stage. A Pool adds a few atomic additions an item. A scrape
// takes each observed router's lock once. BenchmarkCost, on a loaded 2-core machine, in CPU time
// an item: the stage metrics add 7 to 10% to W2 (4 stages of 2 us), 4 to 7 points of it the
// Observer's own; docs/observability.md has the tables.
package prometheus
