package group_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

// A finished result reaches the reader within 1 ms while a batch-mate of it, claimed by the same
// worker in the same batch and run after it, never returns until the test ends it. The group
// first learns a large quantum (a bubble's clock does not move while items run, so its items
// look free), then a holder item keeps the only worker while item 1 and the blocker are
// submitted, so the worker's next batch is [1, blocker]. In an Ordered group item 1 has nothing
// before it in order, so the contract is the same.
func TestFinishedResultIsNotHeldBehindABlockedBatchMate(t *testing.T) {
	for _, mode := range []string{"plain", "ordered"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { finishedNotHeld(t, mode) })
		})
	}
}

// The work funcs' items for the rescue tests: holder blocks until the test closes hold, blocker
// until it closes release; any other item returns at once.
const holder, blocker = -1, -2

// rescueRig is the set-up of the rescue tests: a router of one worker, a group g on it (opened
// with opts) that has learned a large quantum from 32 items, and g's results, read into results
// by a goroutine.
type rescueRig struct {
	r             *group.Router[string, int]
	g             *group.Group[string, int]
	results       chan int
	hold, release chan struct{}
}

func newRescueRig(t *testing.T, opts ...group.GroupOption) *rescueRig {
	rig := &rescueRig{results: make(chan int), hold: make(chan struct{}), release: make(chan struct{})}
	work := func(_ context.Context, v int) (int, error) {
		switch v {
		case holder:
			<-rig.hold
		case blocker:
			<-rig.release
		}
		return v, nil
	}
	rig.r = group.New[string](work, group.Workers(1))
	t.Cleanup(func() { require.NoError(t, rig.r.Shutdown(context.Background())) })
	g, err := rig.r.Open(t.Context(), "g", opts...)
	require.NoError(t, err)
	rig.g = g
	go func() {
		defer close(rig.results)
		for v, err := range g.Results() {
			assert.NoError(t, err)
			rig.results <- v
		}
	}()
	for i := range 32 { // the group learns its quantum: many items a batch
		require.NoError(t, g.Submit(t.Context(), 100+i))
		<-rig.results
	}
	return rig
}

// oneComesEarly checks that item 1's result comes within 1 ms while the blocker blocks, then
// releases the blocker, closes g and returns the results after item 1's.
func (rig *rescueRig) oneComesEarly(t *testing.T) []int {
	start := time.Now()
	select {
	case v := <-rig.results:
		assert.Equal(t, 1, v)
		assert.LessOrEqual(t, time.Since(start), time.Millisecond, "item 1's result came late")
	case <-time.After(time.Second):
		t.Errorf("item 1 finished, and its result was not delivered within 1s while its batch-mate blocks")
	}
	close(rig.release)
	rig.g.Close()
	var rest []int
	for v := range rig.results {
		rest = append(rest, v)
	}
	return rest
}

func finishedNotHeld(t *testing.T, mode string) {
	var opts []group.GroupOption
	if mode == "ordered" {
		opts = append(opts, group.Ordered())
	}
	rig := newRescueRig(t, opts...)
	g := rig.g
	require.NoError(t, g.Submit(t.Context(), holder))
	synctest.Wait() // the worker runs the holder
	require.NoError(t, g.Submit(t.Context(), 1))
	require.NoError(t, g.Submit(t.Context(), blocker))
	close(rig.hold)
	require.Equal(t, holder, <-rig.results)
	rest := rig.oneComesEarly(t)
	assert.Contains(t, rest, blocker)
	assert.Equal(t, int64(35), g.Stats().Completed)
}

// The same contract when the reader began to wait before its group's batch was claimed: the
// only worker runs another group's holder item while item 1 and the blocker are submitted and
// the reader waits, with no batch of its group running; then the worker claims [1, blocker].
// The claim must start the reader's rescue: before, the reader slept until the next publish,
// which the blocker held off for as long as it blocked.
func TestFinishedResultIsNotHeldWhenTheReaderWaitedFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rig := newRescueRig(t)
		g := rig.g
		other, err := rig.r.Open(t.Context(), "other")
		require.NoError(t, err)
		require.NoError(t, other.Submit(t.Context(), holder))
		synctest.Wait() // the worker runs the other group's holder; g's reader waits
		require.NoError(t, g.Submit(t.Context(), 1))
		require.NoError(t, g.Submit(t.Context(), blocker))
		synctest.Wait() // g's reader still waits, no batch of g running
		close(rig.hold)
		assert.Equal(t, []int{blocker}, rig.oneComesEarly(t))
		other.Close()
		for v, err := range other.Results() {
			require.NoError(t, err)
			assert.Equal(t, holder, v)
		}
		assert.Equal(t, int64(34), g.Stats().Completed)
	})
}

// The exactly-once stresses, with readers that take the finished part of a running batch after
// 1 us instead of 500 us: results taken from batches under way, retried, failing fast, expiring
// and in order, each exactly once.
func TestStressRescueExactlyOnce(t *testing.T) {
	defer group.SetRescueAfter(time.Microsecond)()
	t.Run("groups", TestStressGroupsExactlyOnce)
	t.Run("policies", TestStressPoliciesExactlyOnce)
}
