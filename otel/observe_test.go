package otel_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/otel"
	"github.com/stagecoach-go/stagecoach/pool"
)

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

func TestObserveRouter(t *testing.T) {
	r := newRig(t)
	g := newGate()
	router := group.New[string](g.work, group.Workers(2))
	defer router.Shutdown(context.Background())
	stop, err := r.tel.ObserveRouter("orders", router)
	require.NoError(t, err)

	grp, err := router.Open(context.Background(), "a")
	require.NoError(t, err)
	for _, v := range []int{1, 2, 3, 4, -5} {
		require.NoError(t, grp.Submit(context.Background(), v))
	}
	<-g.started
	<-g.started // both workers hold an item: the counters stand still until release
	want := router.Stats()
	require.Equal(t, int64(5), want.Submitted)
	require.Equal(t, int64(5), want.Queued+want.InFlight)
	data := r.collect(t)
	series := map[string]string{"stagecoach.router": "orders"}
	for name, w := range map[string]int64{
		"stagecoach.router.items.submitted": 5, "stagecoach.router.items.completed": 0,
		"stagecoach.router.items.queued": want.Queued, "stagecoach.router.items.in_flight": want.InFlight,
		"stagecoach.router.groups.open": 1,
	} {
		got, ok := r.point(t, data, name, series)
		assert.True(t, ok, "%s has a series", name)
		assert.Equal(t, w, got, name)
	}

	close(g.release)
	grp.Close()
	for range grp.Results() {
	}
	<-grp.Done()
	data = r.collect(t)
	for name, w := range map[string]int64{
		"stagecoach.router.items.completed": 4, "stagecoach.router.items.failed": 1,
		"stagecoach.router.items.queued": 0, "stagecoach.router.items.in_flight": 0,
	} {
		got, _ := r.point(t, data, name, series)
		assert.Equal(t, w, got, name)
	}

	_, err = r.tel.ObserveRouter("orders", router)
	assert.ErrorIs(t, err, otel.ErrAttached, "the same router twice")
	_, err = r.tel.ObserveRouter("other", router)
	assert.ErrorIs(t, err, otel.ErrAttached, "the same router under another name")
	stop()
	stop() // idempotent
	_, ok := r.point(t, r.collect(t), "stagecoach.router.items.submitted", series)
	assert.False(t, ok, "no series once stopped")
	stop2, err := r.tel.ObserveRouter("orders", router)
	require.NoError(t, err, "stopped: it can be observed again")
	stop2()
}

func TestObserveGroupIsOffByDefault(t *testing.T) {
	r := newRig(t)
	router := group.New[string](func(_ context.Context, v int) (int, error) { return v, nil })
	defer router.Shutdown(context.Background())
	grp, err := router.Open(context.Background(), "tenant-1")
	require.NoError(t, err)
	defer grp.Close()
	_, err = r.tel.ObserveGroup("orders", grp.Key(), grp)
	assert.ErrorIs(t, err, otel.ErrGroupKeys)
	_, ok := r.point(t, r.collect(t), "stagecoach.group.items.submitted", map[string]string{})
	assert.False(t, ok, "no series of a group")
}

func TestObserveGroupWithGroupKeys(t *testing.T) {
	r := newRig(t, otel.WithGroupKeys())
	router := group.New[string](func(_ context.Context, v int) (int, error) { return v, nil })
	defer router.Shutdown(context.Background())
	grp, err := router.Open(context.Background(), "tenant-1")
	require.NoError(t, err)
	_, err = r.tel.ObserveGroup("orders", grp.Key(), grp)
	require.NoError(t, err)
	_, err = r.tel.ObserveGroup("orders", grp.Key(), grp)
	assert.ErrorIs(t, err, otel.ErrAttached)
	require.NoError(t, grp.Submit(context.Background(), 1))
	grp.Close()
	for range grp.Results() {
	}
	<-grp.Done()
	series := map[string]string{"stagecoach.router": "orders", "stagecoach.group": "tenant-1"}
	got, ok := r.point(t, r.collect(t), "stagecoach.group.items.completed", series)
	assert.True(t, ok, "a done group is reported once more")
	assert.Equal(t, int64(1), got)
	_, ok = r.point(t, r.collect(t), "stagecoach.group.items.completed", series)
	assert.False(t, ok, "then forgotten")

	again, err := router.Open(context.Background(), "tenant-1")
	require.NoError(t, err)
	defer again.Close()
	_, err = r.tel.ObserveGroup("orders", again.Key(), again)
	assert.NoError(t, err, "a key reopened can be observed again")
}

func TestPoolCounters(t *testing.T) {
	r := newRig(t)
	p, err := otel.NewPool[int](r.tel, "batch")
	require.NoError(t, err)
	defer p.Close()
	_, err = otel.NewPool[int](r.tel, "batch")
	assert.ErrorIs(t, err, otel.ErrAttached, "another pool of the same name")

	g := newGate()
	results := make(chan error, 10)
	go func() {
		for _, err := range p.Run(context.Background(), slices.Values([]int{1, 2, 3, -4, 5}), g.work, pool.Workers(2)) {
			results <- err
		}
		close(results)
	}()
	<-g.started
	<-g.started
	s := p.Stats()
	assert.Equal(t, int64(2), s.InFlight, "two workers hold an item")
	assert.Equal(t, s.Submitted-2, s.Queued, "the rest read is queued")
	got, ok := r.point(t, r.collect(t), "stagecoach.pool.items.in_flight", map[string]string{"stagecoach.pool": "batch"})
	assert.True(t, ok)
	assert.Equal(t, int64(2), got)

	close(g.release)
	var failed int
	for err := range results {
		if err != nil {
			failed++
		}
	}
	assert.Equal(t, 1, failed)
	assert.Equal(t, group.Stats{Submitted: 5, Completed: 4, Failed: 1}, p.Stats())
	data := r.collect(t)
	for name, w := range map[string]int64{
		"stagecoach.pool.items.submitted": 5, "stagecoach.pool.items.completed": 4, "stagecoach.pool.items.failed": 1,
		"stagecoach.pool.items.queued": 0, "stagecoach.pool.items.in_flight": 0,
	} {
		got, _ := r.point(t, data, name, map[string]string{"stagecoach.pool": "batch"})
		assert.Equal(t, w, got, name)
	}
}

func TestPoolCountsAnEarlyStop(t *testing.T) {
	r := newRig(t)
	p, err := otel.NewPool[int](r.tel, "batch")
	require.NoError(t, err)
	defer p.Close()
	for range p.Run(context.Background(), slices.Values([]int{1, 2, 3}), func(_ context.Context, v int) (int, error) { return v, nil }, pool.Ordered()) {
		break
	}
	s := p.Stats()
	assert.Equal(t, int64(1), s.Completed, "one result taken")
	assert.Zero(t, s.Failed, "results not taken are not failures")
	assert.Zero(t, s.Queued+s.InFlight, "the run has ended")
}

func TestPoolCountsACancelledRun(t *testing.T) {
	r := newRig(t)
	p, err := otel.NewPool[int](r.tel, "batch")
	require.NoError(t, err)
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errs int
	for _, err := range p.Run(ctx, slices.Values([]int{1, 2, 3}), func(_ context.Context, v int) (int, error) { return v, nil }) {
		if errors.Is(err, context.Canceled) {
			errs++
		}
	}
	require.Positive(t, errs)
	s := p.Stats()
	assert.Equal(t, s.Submitted, s.Failed, "every item read failed; the cause alone is no item")
	assert.Zero(t, s.Completed)
}
