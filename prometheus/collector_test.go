package prometheus_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/pool"
	stageprom "github.com/stagecoach-go/stagecoach/prometheus"
)

type State int

const (
	Parse State = iota
	Check
	Store
	Done
)

func (s State) String() string { return [...]string{"Parse", "Check", "Store", "Done"}[s] }

var errBad = errors.New("bad item")

// builder returns a three-stage machine's builder: Check fails items below 0 and panics on
// items equal to -100.
func builder() *fsm.Builder[State, int] {
	return fsm.NewBuilder[State, int]().
		Step(Parse, func(_ context.Context, v int) (int, error) { return v, nil }, Check).
		Step(Check, func(_ context.Context, v int) (int, error) {
			if v == -100 {
				panic("boom")
			}
			if v < 0 {
				return v, errBad
			}
			return v, nil
		}, Store).
		Step(Store, func(_ context.Context, v int) (int, error) { return v + 1, nil }, Done).
		Terminal(Done)
}

func newCollector(t testing.TB) (*prometheus.Registry, *stageprom.Collector) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	c, err := stageprom.New(reg)
	require.NoError(t, err)
	return reg, c
}

func machine(t testing.TB, c *stageprom.Collector, name string) *fsm.Machine[State, int] {
	t.Helper()
	b := builder()
	require.NoError(t, stageprom.NewMachine[State, int](c, name).Attach(b))
	m, err := b.Build(Parse)
	require.NoError(t, err)
	return m
}

// gate is a work func that tells started about each item and waits for release.
type gate struct {
	started chan int
	release chan struct{}
}

func newGate() *gate { return &gate{started: make(chan int, 100), release: make(chan struct{})} }

func (g *gate) work(ctx context.Context, v int) (int, error) {
	g.started <- v
	select {
	case <-g.release:
	case <-ctx.Done():
		return v, ctx.Err()
	}
	if v < 0 {
		return v, errBad
	}
	return v, nil
}

func TestStageMetrics(t *testing.T) {
	reg, c := newCollector(t)
	m := machine(t, c, "orders")
	for _, v := range []int{1, 2, 3, -1, -100} {
		_, _, _ = m.Run(context.Background(), v)
	}
	want := `
# HELP stagecoach_stage_items_total Items a machine's stage returned, by machine, state and outcome (ok, error, panic).
# TYPE stagecoach_stage_items_total counter
stagecoach_stage_items_total{machine="orders",outcome="error",state="Check"} 1
stagecoach_stage_items_total{machine="orders",outcome="error",state="Parse"} 0
stagecoach_stage_items_total{machine="orders",outcome="error",state="Store"} 0
stagecoach_stage_items_total{machine="orders",outcome="ok",state="Check"} 3
stagecoach_stage_items_total{machine="orders",outcome="ok",state="Parse"} 5
stagecoach_stage_items_total{machine="orders",outcome="ok",state="Store"} 3
stagecoach_stage_items_total{machine="orders",outcome="panic",state="Check"} 1
stagecoach_stage_items_total{machine="orders",outcome="panic",state="Parse"} 0
stagecoach_stage_items_total{machine="orders",outcome="panic",state="Store"} 0
`
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "stagecoach_stage_items_total"))
	assert.Equal(t, map[string]uint64{"Parse": 5, "Check": 5, "Store": 3}, histogramCounts(t, reg))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// histogramCounts returns the stage duration histogram's sample count by state.
func histogramCounts(t testing.TB, reg prometheus.Gatherer) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "stagecoach_stage_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" {
					got[l.GetValue()] = m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return got
}

func TestObserveRouter(t *testing.T) {
	reg, c := newCollector(t)
	g := newGate()
	router := group.New[string](g.work, group.Workers(2))
	defer router.Shutdown(context.Background())
	stop, err := c.ObserveRouter("orders", router)
	require.NoError(t, err)
	grp, err := router.Open(context.Background(), "a")
	require.NoError(t, err)
	for _, v := range []int{1, 2, 3, 4, -5} {
		require.NoError(t, grp.Submit(context.Background(), v))
	}
	<-g.started
	<-g.started // both workers hold an item: the counters stand still until release
	s := router.Stats()
	require.Equal(t, int64(5), s.Queued+s.InFlight)
	want := fmt.Sprintf(`
# HELP stagecoach_router_groups_open Request groups open on a router.
# TYPE stagecoach_router_groups_open gauge
stagecoach_router_groups_open{router="orders"} 1
# HELP stagecoach_router_items_in_flight Items a router's workers are running.
# TYPE stagecoach_router_items_in_flight gauge
stagecoach_router_items_in_flight{router="orders"} %d
# HELP stagecoach_router_items_queued Items accepted by a router and not yet started.
# TYPE stagecoach_router_items_queued gauge
stagecoach_router_items_queued{router="orders"} %d
# HELP stagecoach_router_items_submitted_total Items accepted by a router.
# TYPE stagecoach_router_items_submitted_total counter
stagecoach_router_items_submitted_total{router="orders"} 5
`, s.InFlight, s.Queued)
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"stagecoach_router_groups_open", "stagecoach_router_items_in_flight", "stagecoach_router_items_queued", "stagecoach_router_items_submitted_total"))

	close(g.release)
	grp.Close()
	for range grp.Results() {
	}
	<-grp.Done()
	want = `
# HELP stagecoach_router_items_completed_total Items of a router whose work func returned without error.
# TYPE stagecoach_router_items_completed_total counter
stagecoach_router_items_completed_total{router="orders"} 4
# HELP stagecoach_router_items_failed_total Items of a router that failed.
# TYPE stagecoach_router_items_failed_total counter
stagecoach_router_items_failed_total{router="orders"} 1
# HELP stagecoach_router_items_in_flight Items a router's workers are running.
# TYPE stagecoach_router_items_in_flight gauge
stagecoach_router_items_in_flight{router="orders"} 0
`
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		"stagecoach_router_items_completed_total", "stagecoach_router_items_failed_total", "stagecoach_router_items_in_flight"))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)

	_, err = c.ObserveRouter("orders", router)
	assert.ErrorIs(t, err, stageprom.ErrAttached, "the same router twice")
	_, err = c.ObserveRouter("other", router)
	assert.ErrorIs(t, err, stageprom.ErrAttached, "the same router under another name")
	stop()
	stop()
	assert.Zero(t, testutil.CollectAndCount(c, "stagecoach_router_items_submitted_total"), "no series once stopped")
}

func TestPool(t *testing.T) {
	reg, c := newCollector(t)
	p, err := stageprom.NewPool[int](c, "batch")
	require.NoError(t, err)
	defer p.Close()
	_, err = stageprom.NewPool[int](c, "batch")
	assert.ErrorIs(t, err, stageprom.ErrAttached)
	work := func(_ context.Context, v int) (int, error) {
		if v < 0 {
			return v, errBad
		}
		return v, nil
	}
	for range p.Run(context.Background(), slices.Values([]int{1, 2, -3}), work, pool.Workers(2)) {
	}
	want := `
# HELP stagecoach_pool_items_completed_total Items of a pool whose work func returned without error.
# TYPE stagecoach_pool_items_completed_total counter
stagecoach_pool_items_completed_total{pool="batch"} 2
# HELP stagecoach_pool_items_failed_total Items of a pool that failed.
# TYPE stagecoach_pool_items_failed_total counter
stagecoach_pool_items_failed_total{pool="batch"} 1
# HELP stagecoach_pool_items_in_flight Items a pool's workers are running.
# TYPE stagecoach_pool_items_in_flight gauge
stagecoach_pool_items_in_flight{pool="batch"} 0
# HELP stagecoach_pool_items_queued Items accepted by a pool and not yet started.
# TYPE stagecoach_pool_items_queued gauge
stagecoach_pool_items_queued{pool="batch"} 0
# HELP stagecoach_pool_items_submitted_total Items accepted by a pool.
# TYPE stagecoach_pool_items_submitted_total counter
stagecoach_pool_items_submitted_total{pool="batch"} 3
`
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want)))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

func TestBadInput(t *testing.T) {
	assert.PanicsWithValue(t, "prometheus: New: nil prometheus.Registerer", func() { _, _ = stageprom.New(nil) })
	reg, c := newCollector(t)
	_, err := stageprom.New(reg)
	assert.Error(t, err, "a second Collector on one registry")
	assert.PanicsWithValue(t, "prometheus: NewMachine: nil *Collector", func() { stageprom.NewMachine[State, int](nil, "m") })
	assert.PanicsWithValue(t, "prometheus: NewPool: nil *Collector", func() { _, _ = stageprom.NewPool[int](nil, "p") })
	assert.PanicsWithValue(t, "prometheus: ObserveRouter: nil Router", func() { _, _ = c.ObserveRouter("r", nil) })

	om := stageprom.NewMachine[State, int](c, "orders")
	require.NoError(t, om.Attach(builder()))
	assert.ErrorIs(t, om.Attach(builder()), stageprom.ErrAttached, "the same adapter again")
	_, err = om.Observer()
	assert.ErrorIs(t, err, stageprom.ErrAttached, "Observer counts as attaching")
	assert.ErrorIs(t, stageprom.NewMachine[State, int](c, "orders").Attach(builder()), stageprom.ErrAttached, "the same name")

	built := builder()
	_, err = built.Build(Parse)
	require.NoError(t, err)
	free := stageprom.NewMachine[State, int](c, "billing")
	assert.Panics(t, func() { _ = free.Attach(built) }, "a built builder")
	assert.NoError(t, free.Attach(builder()), "a refused attach does not count")
}

func TestStageMetricsAllocateNothing(t *testing.T) {
	_, c := newCollector(t)
	m := machine(t, c, "orders")
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _, _ = m.Run(ctx, 1) }))
}
