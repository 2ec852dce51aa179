package group_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

// blockFirst returns a work func whose first call waits for release, and its count of calls.
func blockFirst(release <-chan struct{}) (func(context.Context, int) (int, error), *atomic.Int64) {
	var calls atomic.Int64
	return func(_ context.Context, v int) (int, error) {
		if calls.Add(1) == 1 {
			<-release
		}
		return v, nil
	}, &calls
}

// expireRun submits items 0 to 4 to a group of one worker whose first item holds the worker,
// with the options and the submitting context submit gives, lets wait pass on the bubble's
// clock, releases the worker, and returns the results' errors, the work func's calls and the
// group's counters.
func expireRun(t *testing.T, wait time.Duration, submit func() context.Context, opts ...group.GroupOption) ([]error, int64, group.Stats) {
	release := make(chan struct{})
	work, calls := blockFirst(release)
	r := group.New[string](work, group.Workers(1))
	defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
	g, err := r.Open(t.Context(), "g", append(opts, group.Ordered())...)
	require.NoError(t, err)
	for i := range 5 {
		require.NoError(t, g.Submit(submit(), i))
	}
	synctest.Wait() // the first item runs, the others wait in the queue
	submit()        // a call after the submissions: the cancel test ends their context here
	time.Sleep(wait)
	close(release)
	g.Close()
	var errs []error
	for _, err := range g.Results() {
		errs = append(errs, err)
	}
	return errs, calls.Load(), g.Stats()
}

// An item not started within its group's MaxWait of its submission fails with ErrExpired (an
// *ExpiredError with the time it waited) without its work func being called, and Stats counts
// it; an item that waited less runs.
func TestMaxWaitExpiresItemsNotStartedInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errs, calls, st := expireRun(t, 20*time.Millisecond, t.Context, group.MaxWait(10*time.Millisecond))
		require.Len(t, errs, 5)
		assert.NoError(t, errs[0], "the item that started at once")
		for _, err := range errs[1:] {
			require.ErrorIs(t, err, group.ErrExpired)
			var ee *group.ExpiredError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, 20*time.Millisecond, ee.Waited.Truncate(time.Millisecond), "the time it waited")
			assert.Equal(t, 10*time.Millisecond, ee.MaxWait)
			var ge *group.Error[string]
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, "g", ge.Key)
		}
		assert.Equal(t, int64(1), calls, "work func calls: only the item that started in time")
		assert.Equal(t, int64(4), st.Expired)
		assert.Equal(t, int64(4), st.Failed)
		assert.Equal(t, int64(1), st.Completed)
	})
	synctest.Test(t, func(t *testing.T) {
		errs, calls, st := expireRun(t, 5*time.Millisecond, t.Context, group.MaxWait(10*time.Millisecond))
		for _, err := range errs {
			assert.NoError(t, err, "waited less than MaxWait")
		}
		assert.Equal(t, int64(5), calls)
		assert.Zero(t, st.Expired)
	})
}

// An item whose submitting context ends before it starts never starts: it fails with ErrExpired
// and the context's cause, a deadline's or a cancel's, and Stats counts it.
func TestSubmittingContextBoundsTheStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cancels []context.CancelFunc
		defer func() {
			for _, c := range cancels {
				c()
			}
		}()
		n := 0
		submit := func() context.Context { // item 0: no deadline; the others: 5 ms
			n++
			if n == 1 {
				return t.Context()
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
			cancels = append(cancels, cancel)
			return ctx
		}
		errs, calls, st := expireRun(t, 10*time.Millisecond, submit)
		require.Len(t, errs, 5)
		assert.NoError(t, errs[0])
		for _, err := range errs[1:] {
			assert.ErrorIs(t, err, group.ErrExpired)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
		}
		assert.Equal(t, int64(1), calls, "work func calls: only the item whose context had not ended")
		assert.Equal(t, int64(4), st.Expired)
	})
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		n := 0
		submit := func() context.Context {
			if n++; n == 6 {
				cancel() // after the submissions: the items not started must not start
			}
			return ctx
		}
		errs, calls, _ := expireRun(t, 0, submit)
		require.Len(t, errs, 5)
		assert.NoError(t, errs[0], "it had started")
		for _, err := range errs[1:] {
			assert.ErrorIs(t, err, group.ErrExpired)
			assert.ErrorIs(t, err, context.Canceled)
		}
		assert.Equal(t, int64(1), calls)
	})
}

// MaxWait panics on a negative wait, naming it.
func TestMaxWaitPanicsWhenNegative(t *testing.T) {
	assert.PanicsWithValue(t, "group: MaxWait(-1ms): must not be negative", func() { group.MaxWait(-time.Millisecond) })
	assert.True(t, errors.Is(&group.ExpiredError{}, group.ErrExpired))
}

// A group with a MaxWait whose oldest queued item has waited more than half of it serves its
// newest items first, and the old ones expire: under overload the items served are the fresh
// ones, which then wait far less than MaxWait, instead of every item served having waited about
// MaxWait. One worker is held while items 0 to 3 wait 7 ms and items 4 to 7 wait 1 ms (MaxWait
// 10 ms): the newest run first. An ordered or serial group keeps its order.
func TestMaxWaitServesTheNewestFirstAtTheEdge(t *testing.T) {
	for _, mode := range []string{"plain", "ordered"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { newestFirst(t, mode) })
		})
	}
}

func newestFirst(t *testing.T, mode string) {
	release := make(chan struct{})
	var order []int
	first := true
	work := func(_ context.Context, v int) (int, error) {
		if first {
			first = false
			<-release
			return v, nil
		}
		order = append(order, v) // one worker: no race
		return v, nil
	}
	r := group.New[string](work, group.Workers(1))
	defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
	opts := []group.GroupOption{group.MaxWait(10 * time.Millisecond)}
	if mode == "ordered" {
		opts = append(opts, group.Ordered())
	}
	g, err := r.Open(t.Context(), "g", opts...)
	require.NoError(t, err)
	require.NoError(t, g.Submit(t.Context(), -1)) // holds the worker
	synctest.Wait()
	for i := range 8 {
		if i == 4 {
			time.Sleep(6 * time.Millisecond)
		}
		require.NoError(t, g.Submit(t.Context(), i))
	}
	time.Sleep(time.Millisecond)
	close(release)
	g.Close()
	for _, err := range g.Results() {
		assert.NoError(t, err)
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7}
	if mode == "plain" {
		want = []int{7, 6, 5, 4, 3, 2, 1, 0}
	}
	assert.Equal(t, want, order)
}

// MaxWait bounds an item's start, not its claim: a worker takes a run of items at once, and an
// item of the run that would start more than MaxWait after its submission (the items before it
// in the run took that long) fails expired instead of starting late.
func TestMaxWaitBoundsEveryStartInABatch(t *testing.T) {
	for _, mode := range []string{"plain", "ordered"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { startsWithin(t, mode) })
		})
	}
}

func startsWithin(t *testing.T, mode string) {
	const (
		items   = 400
		service = 5 * time.Microsecond // a quantum of about 20 us is a run of 4 items
		maxWait = 500 * time.Microsecond
	)
	starts := make([]time.Duration, items)
	var t0 time.Time
	work := func(_ context.Context, v int) (int, error) {
		starts[v] = time.Since(t0) // one worker: no race
		time.Sleep(service)
		return v, nil
	}
	r := group.New[string](work, group.Workers(1))
	defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
	opts := []group.GroupOption{group.MaxWait(maxWait), group.Window(items)}
	if mode == "ordered" {
		opts = append(opts, group.Ordered())
	}
	g, err := r.Open(t.Context(), "g", opts...)
	require.NoError(t, err)
	t0 = time.Now()
	for i := range items {
		require.NoError(t, g.Submit(t.Context(), i))
	}
	g.Close()
	ran, expired := 0, 0
	for v, err := range g.Results() {
		if err != nil {
			require.ErrorIs(t, err, group.ErrExpired)
			expired++
			continue
		}
		ran++
		assert.LessOrEqual(t, starts[v], maxWait, "item %d started after its MaxWait", v)
	}
	assert.Equal(t, items, ran+expired, "every item yields one result")
	assert.Positive(t, expired, "the backlog is longer than MaxWait allows")
	assert.Positive(t, ran)
	assert.Equal(t, int64(expired), g.Stats().Expired)
}
