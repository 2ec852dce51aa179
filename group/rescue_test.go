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

func finishedNotHeld(t *testing.T, mode string) {
	const holder, blocker = -1, -2
	hold, release := make(chan struct{}), make(chan struct{})
	work := func(_ context.Context, v int) (int, error) {
		switch v {
		case holder:
			<-hold
		case blocker:
			<-release
		}
		return v, nil
	}
	r := group.New[string](work, group.Workers(1))
	defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
	var opts []group.GroupOption
	if mode == "ordered" {
		opts = append(opts, group.Ordered())
	}
	g, err := r.Open(t.Context(), "g", opts...)
	require.NoError(t, err)
	results := make(chan int)
	go func() {
		defer close(results)
		for v, err := range g.Results() {
			assert.NoError(t, err)
			results <- v
		}
	}()
	for i := range 32 { // the group learns its quantum: many items a batch
		require.NoError(t, g.Submit(t.Context(), 100+i))
		<-results
	}
	require.NoError(t, g.Submit(t.Context(), holder))
	synctest.Wait() // the worker runs the holder
	require.NoError(t, g.Submit(t.Context(), 1))
	require.NoError(t, g.Submit(t.Context(), blocker))
	close(hold)
	require.Equal(t, holder, <-results)
	start := time.Now()
	select {
	case v := <-results:
		assert.Equal(t, 1, v)
		assert.LessOrEqual(t, time.Since(start), time.Millisecond, "item 1's result came late")
	case <-time.After(time.Second):
		t.Errorf("item 1 finished, and its result was not delivered within 1s while its batch-mate blocks")
	}
	close(release)
	g.Close()
	var rest []int
	for v := range results {
		rest = append(rest, v)
	}
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
		const holder, blocker = -1, -2
		hold, release := make(chan struct{}), make(chan struct{})
		work := func(_ context.Context, v int) (int, error) {
			switch v {
			case holder:
				<-hold
			case blocker:
				<-release
			}
			return v, nil
		}
		r := group.New[string](work, group.Workers(1))
		defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
		g, err := r.Open(t.Context(), "g")
		require.NoError(t, err)
		other, err := r.Open(t.Context(), "other")
		require.NoError(t, err)
		results := make(chan int)
		go func() {
			defer close(results)
			for v, err := range g.Results() {
				assert.NoError(t, err)
				results <- v
			}
		}()
		for i := range 32 { // the group learns its quantum: many items a batch
			require.NoError(t, g.Submit(t.Context(), 100+i))
			<-results
		}
		require.NoError(t, other.Submit(t.Context(), holder))
		synctest.Wait() // the worker runs the other group's holder; g's reader waits
		require.NoError(t, g.Submit(t.Context(), 1))
		require.NoError(t, g.Submit(t.Context(), blocker))
		synctest.Wait() // g's reader still waits, no batch of g running
		close(hold)
		start := time.Now()
		select {
		case v := <-results:
			assert.Equal(t, 1, v)
			assert.LessOrEqual(t, time.Since(start), time.Millisecond, "item 1's result came late")
		case <-time.After(time.Second):
			t.Errorf("item 1 finished, and its result was not delivered within 1s while its batch-mate blocks")
		}
		close(release)
		g.Close()
		other.Close()
		var rest []int
		for v := range results {
			rest = append(rest, v)
		}
		assert.Equal(t, []int{blocker}, rest)
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
