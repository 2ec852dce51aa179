package group_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

// spinUnits is an item's work of the weighted tests: units times the fairness test's spin.
func spinUnits(v, units int) int {
	for range units {
		v = spin(v)
	}
	return v
}

// Two backlogged groups of weights 1 and 3, whose items cost different amounts (the first's 1,
// 2 or 3 units of work, the second's 1 or 5), get a quarter and three quarters of the service,
// within 5 points, from 1 to 8 workers. Service is counted by the work funcs themselves (units
// of work done, not wall-clock time), from when both backlogs are queued to when the first group
// has done all of its items. A run can be thrown off by the system stopping a worker's thread
// mid-batch on a loaded machine (the stall is charged to one group); such a stall does not grow
// with the run, so a failing run is repeated longer (see fairAttempts), and a wrong policy fails
// at every length.
func TestStressWeightedShares(t *testing.T) {
	for workers := 1; workers <= 8; workers++ {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			var share float64
			for attempt, items := 0, 1500; attempt < fairAttempts; attempt, items = attempt+1, 3*items {
				if share = weightedRun(t, workers, items); share >= 0.70 && share <= 0.80 {
					t.Logf("the weight-3 group's share: %.3f", share)
					return
				}
				t.Logf("attempt %d, %d items: the weight-3 group's share: %.3f", attempt+1, items, share)
			}
			t.Errorf("the weight-3 group's share of the service: %.3f, want 0.75 +- 0.05", share)
		})
	}
}

// weightedRun runs the groups of weights 1 and 3 with items and 2 x items items, and returns the
// weight-3 group's share of the units of work done when the first group finished.
func weightedRun(t *testing.T, workers, items int) float64 {
	const hold = -1
	cost := [2]func(i int) int{
		func(i int) int { return 1 + i%3 },     // weight 1: 2 units an item on average
		func(i int) int { return 1 + 4*(i%2) }, // weight 3: 3 units an item on average
	}
	n := [2]int{items, 2 * items} // 2 x items and 6 x items units: both groups stay busy
	var units, done [2]atomic.Int64
	var first atomic.Bool
	var atFirst [2]int64
	var held sync.WaitGroup
	held.Add(workers)
	gate := make(chan struct{})
	work := func(_ context.Context, v [2]int) ([2]int, error) {
		if v[0] == hold {
			held.Done()
			<-gate
			return v, nil
		}
		c := cost[v[0]](v[1])
		v[1] = spinUnits(v[1], c)
		units[v[0]].Add(int64(c))
		if done[v[0]].Add(1) == int64(n[v[0]]) && first.CompareAndSwap(false, true) {
			atFirst[0], atFirst[1] = units[0].Load(), units[1].Load()
		}
		return v, nil
	}
	r := group.New[int](work, group.Workers(workers))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	holder, err := r.Open(t.Context(), hold, group.Window(workers))
	require.NoError(t, err)
	for i := range workers {
		require.NoError(t, holder.Submit(t.Context(), [2]int{hold, i}))
	}
	holder.Close()
	held.Wait()
	var gs []*group.Group[int, [2]int]
	for k, w := range []int{1, 3} {
		g, err := r.Open(t.Context(), k, group.Window(n[k]), group.Weight(w))
		require.NoError(t, err)
		for i := range n[k] {
			require.NoError(t, g.Submit(t.Context(), [2]int{k, i}))
		}
		g.Close()
		gs = append(gs, g)
	}
	close(gate)
	var readers sync.WaitGroup
	for _, g := range append(gs, holder) {
		readers.Go(func() {
			for _, err := range g.Results() {
				assert.NoError(t, err)
			}
		})
	}
	readers.Wait()
	return float64(atFirst[1]) / float64(atFirst[0]+atFirst[1])
}

// Weight panics on a weight out of range, naming it.
func TestWeightPanicsOutOfRange(t *testing.T) {
	assert.PanicsWithValue(t, "group: Weight(0): must be from 1 to 1000", func() { group.Weight(0) })
	assert.PanicsWithValue(t, "group: Weight(1001): must be from 1 to 1000", func() { group.Weight(1001) })
}
