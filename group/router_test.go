package group_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

func double(_ context.Context, v int) (int, error) { return 2 * v, nil }

// newRouter starts a router that is closed and waited for when the test ends.
func newRouter(t *testing.T, work func(context.Context, int) (int, error), opts ...group.Option) *group.Router[string, int] {
	t.Helper()
	r := group.New[string](work, opts...)
	t.Cleanup(func() { r.Close(); r.Wait() })
	return r
}

// Group A's reader never reads: A's Submit blocks and returns the context's error when it ends,
// and A is then reclaimed, while group B completes 100k items meanwhile.
func TestIsolationFromAStalledReader(t *testing.T) {
	r := newRouter(t, double)
	ctxA, cancelA := context.WithCancel(context.Background())
	a, err := r.Open(ctxA, "A", group.Window(4))
	require.NoError(t, err)
	for i := range 4 {
		require.NoError(t, a.Submit(ctxA, i))
	}
	blocked := make(chan error)
	go func() { blocked <- a.Submit(ctxA, 99) }()

	b, err := r.Open(context.Background(), "B")
	require.NoError(t, err)
	const n = 100_000
	submitErr := make(chan error, 1)
	go func() {
		defer b.Close()
		for i := range n {
			if err := b.Submit(context.Background(), i); err != nil {
				submitErr <- err
				return
			}
		}
		submitErr <- nil
	}()
	sum := 0
	for v, err := range b.Results() {
		require.NoError(t, err)
		sum += v
	}
	require.NoError(t, <-submitErr, "B's submissions")
	assert.Equal(t, n*(n-1), sum, "B got all its results while A's reader read nothing")

	cancelA()
	err = <-blocked
	assert.ErrorIs(t, err, context.Canceled, "A's blocked Submit returns the context's error")
	<-a.Done()
	assert.Equal(t, 0, r.Len(), "A is reclaimed")
	assert.Equal(t, group.Stats{Submitted: 4, Completed: 4}, a.Stats(), "A's accepted items all ran")
	assert.ErrorIs(t, a.Submit(context.Background(), 5), group.ErrGroupClosed)
}

// Many goroutines open, submit to and close groups at once: every result is accounted for.
func TestChurn(t *testing.T) {
	r := newRouter(t, double, group.Workers(3))
	const goroutines, rounds, items = 16, 20, 30
	var wg sync.WaitGroup
	for gr := range goroutines {
		wg.Go(func() {
			for round := range rounds {
				key := fmt.Sprintf("%d/%d", gr, round%3)
				g, err := r.Open(context.Background(), key, group.Window(1+round%5))
				if !assert.NoError(t, err) {
					return
				}
				go func() {
					defer g.Close()
					for i := range items {
						assert.NoError(t, g.Submit(context.Background(), i))
					}
				}()
				got := 0
				for v, err := range g.Results() {
					assert.NoError(t, err)
					assert.Equal(t, 0, v%2)
					got++
				}
				assert.Equal(t, items, got, "group %s got every result", key)
			}
		})
	}
	wg.Wait()
	s := r.Stats()
	assert.Equal(t, int64(goroutines*rounds*items), s.Submitted)
	assert.Equal(t, s.Submitted, s.Completed)
	assert.Zero(t, s.Failed+s.Queued+s.InFlight)
}

// A panicking item fails alone, with its stack; the router keeps serving.
func TestPanicFailsOnlyItsItem(t *testing.T) {
	r := newRouter(t, func(_ context.Context, v int) (int, error) {
		if v == 3 {
			panic("three")
		}
		return v, nil
	}, group.Workers(2))
	g, err := r.Open(context.Background(), "g", group.Ordered())
	require.NoError(t, err)
	for i := range 6 {
		require.NoError(t, g.Submit(context.Background(), i))
	}
	g.Close()
	i := 0
	for v, err := range g.Results() {
		if i == 3 {
			var pe *group.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "three", pe.Value)
			assert.Contains(t, string(pe.Stack), "TestPanicFailsOnlyItsItem")
			assert.Contains(t, err.Error(), "group g: ")
			assert.Equal(t, 3, v, "the item comes back as it was submitted")
		} else {
			assert.NoError(t, err)
			assert.Equal(t, i, v)
		}
		i++
	}
	assert.Equal(t, 6, i)
	h, err := r.Open(context.Background(), "after")
	require.NoError(t, err)
	require.NoError(t, h.Submit(context.Background(), 7))
	h.Close()
	for v, err := range h.Results() {
		assert.NoError(t, err)
		assert.Equal(t, 7, v)
	}
}

func TestMisuse(t *testing.T) {
	r := newRouter(t, double)
	g, err := r.Open(context.Background(), "k")
	require.NoError(t, err)
	_, err = r.Open(context.Background(), "k")
	assert.ErrorIs(t, err, group.ErrKeyOpen)
	g.Close()
	g.Close() // harmless
	assert.ErrorIs(t, g.Submit(context.Background(), 1), group.ErrGroupClosed)
	assert.ErrorIs(t, g.TrySubmit(1), group.ErrGroupClosed)
	again, err := r.Open(context.Background(), "k")
	require.NoError(t, err, "a closed group's key opens again")
	again.Close()
	r.Close()
	r.Close()
	_, err = r.Open(context.Background(), "late")
	assert.ErrorIs(t, err, group.ErrRouterClosed)

	tests := []struct {
		give string
		f    func()
		want string
	}{
		{"nil work", func() { group.New[string, int](nil) }, "group: New: nil work func"},
		{"zero workers", func() { group.Workers(0) }, "group: Workers(0): must be at least 1"},
		{"zero window", func() { group.Window(0) }, "group: Window(0): must be from 1 to 1048576"},
		{"huge window", func() { group.Window(math.MaxInt) }, fmt.Sprintf("group: Window(%d): must be from 1 to 1048576", math.MaxInt)},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, tt.f)
		})
	}
}

func TestTrySubmitReportsAFullWindow(t *testing.T) {
	r := newRouter(t, double)
	g, err := r.Open(context.Background(), "g", group.Window(2))
	require.NoError(t, err)
	require.NoError(t, g.TrySubmit(1))
	require.NoError(t, g.TrySubmit(2))
	assert.True(t, errors.Is(g.TrySubmit(3), group.ErrWindowFull))
	g.Close()
	n := 0
	for range g.Results() {
		n++
	}
	assert.Equal(t, 2, n)
}

// Router.Stats does not take the lock the workers take for every batch (issue 20 point 5): it
// returns, with every group's counters, while that lock is held.
func TestRouterStatsDoesNotTakeTheWorkersLock(t *testing.T) {
	r := newRouter(t, double, group.Workers(2))
	g, err := r.Open(t.Context(), "g")
	require.NoError(t, err)
	require.NoError(t, g.Submit(t.Context(), 1))
	g.Close()
	for range g.Results() {
	}
	unlock := group.HoldWorkersLock(r)
	got := make(chan group.Stats, 1)
	go func() { got <- r.Stats() }()
	select {
	case st := <-got:
		unlock()
		assert.Equal(t, int64(1), st.Submitted)
		assert.Equal(t, int64(1), st.Completed)
	case <-time.After(10 * time.Second): // not a synchronization: the failure's bound
		unlock()
		<-got
		t.Fatal("Router.Stats waited for the workers' lock")
	}
}
