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

// spin is an item's equal work in the fairness test: about a microsecond of CPU, and no memory
// traffic for the race detector to slow down.
func spin(v int) int {
	x := v
	for range 500 {
		x = x*31 + 7
	}
	return x
}

// Fair service across busy groups of equal work, whatever the rotation of the router's queue of
// groups: from 1 to 8 workers and 1 to 6 groups, each with the same backlog of equal items (2,000
// a group, more if a run must be repeated: see fairAttempts), queued
// before any worker takes one (the workers are held by one item each of another group until then).
// A group's share is the fraction of its items done; when the first group has done all of its
// items, every other group has done at least half of its own: no group is more than 2x ahead of
// another's share.
func TestStressFairnessAcrossEqualGroups(t *testing.T) {
	for workers := 1; workers <= 8; workers++ {
		for groups := 1; groups <= 6; groups++ {
			t.Run(fmt.Sprintf("workers=%d/groups=%d", workers, groups), func(t *testing.T) {
				var unfair string
				for attempt, items := 0, 2000; attempt < fairAttempts; attempt, items = attempt+1, 4*items {
					if unfair = fairRun(t, workers, groups, items); unfair == "" {
						return
					}
					t.Logf("attempt %d, %d items a group: %s", attempt+1, items, unfair)
				}
				t.Errorf("unfair in each of %d runs; the last: %s", fairAttempts, unfair)
			})
		}
	}
}

// fairAttempts is how many runs of a configuration TestStressFairnessAcrossEqualGroups makes,
// each with 4 times the items of the one before, before it calls it unfair. A run can be unfair
// for a reason outside the router's policy: on an oversubscribed machine (GOMAXPROCS above the
// cores, or a loaded machine) the system can stop a thread for milliseconds while its goroutine
// holds a group's lock (a reader taking its results, a worker publishing), and the workers serve
// the other groups meanwhile. Such a stall is random and its length does not grow with the run,
// so a longer run dilutes it; an unfair policy is unfair at every length (the rotation bug left
// a group at 3% to 5% of its items each time).
const fairAttempts = 3

// fairRun runs one configuration of TestStressFairnessAcrossEqualGroups, and says how it was
// unfair, if it was.
func fairRun(t *testing.T, workers, groups, items int) (unfair string) {
	const hold = -1                      // the key of the group whose items hold the workers until the backlogs are queued
	done := make([]atomic.Int64, groups) // items of each group whose work func has run
	var first atomic.Bool
	atFirst := make([]int64, groups) // every group's items done when the first group finished
	finished := make(chan int, 1)
	var held sync.WaitGroup
	held.Add(workers)
	gate := make(chan struct{})
	work := func(_ context.Context, v [2]int) ([2]int, error) {
		if v[0] == hold {
			held.Done()
			<-gate
			return v, nil
		}
		v[1] = spin(v[1])
		if done[v[0]].Add(1) == int64(items) && first.CompareAndSwap(false, true) {
			for i := range done {
				atFirst[i] = done[i].Load()
			}
			finished <- v[0]
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
	held.Wait() // every worker runs a holding item: none takes a backlog's item yet
	gs := make([]*group.Group[int, [2]int], groups)
	for k := range gs {
		g, err := r.Open(t.Context(), k, group.Window(items))
		require.NoError(t, err)
		for i := range items {
			require.NoError(t, g.Submit(t.Context(), [2]int{k, i}))
		}
		g.Close()
		gs[k] = g
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
	winner := <-finished
	for k, n := range atFirst {
		if 2*n < int64(items) {
			return fmt.Sprintf("group %d had done %d of its %d items when group %d had done all of its own (done: %v)",
				k, n, items, winner, atFirst)
		}
	}
	return ""
}
