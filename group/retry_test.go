package group_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

var errTransient = errors.New("transient")

// flaky returns a work func under which item v fails with a retryable error its first fails[v]
// times, and the log of the items it was called with, in order.
func flaky(fails map[int]int) (func(context.Context, int) (int, error), func() []int) {
	var mu sync.Mutex
	var calls []int
	tried := map[int]int{}
	work := func(_ context.Context, v int) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, v)
		tried[v]++
		if tried[v] <= fails[v] {
			return v, group.Retryable(errTransient)
		}
		return 2 * v, nil
	}
	return work, func() []int { mu.Lock(); defer mu.Unlock(); return append([]int(nil), calls...) }
}

// results reads every result of g.
func results(g *group.Group[string, int]) (vals []int, errs []error) {
	for v, err := range g.Results() {
		vals, errs = append(vals, v), append(errs, err)
	}
	return vals, errs
}

// An item that fails with a retryable error goes back to its group's queue after its backoff, and
// the worker serves another group meanwhile: with one worker, the other group's item runs
// between the failed attempts. The item yields one result, and Stats counts the retries.
func TestRetryFreesTheWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		work, calls := flaky(map[int]int{1: 2})
		r := group.New[string](work, group.Workers(1))
		defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
		a, err := r.Open(t.Context(), "a", group.Retry(group.RetryPolicy{Attempts: 3, Backoff: 10 * time.Millisecond}))
		require.NoError(t, err)
		b, err := r.Open(t.Context(), "b")
		require.NoError(t, err)
		require.NoError(t, a.Submit(t.Context(), 1))
		synctest.Wait() // item 1 failed once and waits out its backoff
		require.NoError(t, b.Submit(t.Context(), 7))
		a.Close()
		b.Close()
		vals, errs := results(a)
		assert.Equal(t, []int{2}, vals, "one result, the success")
		assert.Equal(t, []error{nil}, errs)
		results(b)
		assert.Equal(t, []int{1, 7, 1, 1}, calls(), "b's item ran while a's waited")
		assert.Equal(t, int64(2), a.Stats().Retried)
		assert.Zero(t, a.Stats().Failed)
		assert.Equal(t, int64(1), a.Stats().Completed)
	})
}

// An item still failing after its attempts gets its last error, which names the attempts; an
// error not marked retryable is not retried.
func TestRetryGivesUpAfterItsAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		work, calls := flaky(map[int]int{1: 5})
		boom := func(ctx context.Context, v int) (int, error) {
			if v == 2 {
				return v, errBoom
			}
			return work(ctx, v)
		}
		r := group.New[string](boom, group.Workers(2))
		defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
		g, err := r.Open(t.Context(), "g", group.Ordered(), group.Retry(group.RetryPolicy{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}))
		require.NoError(t, err)
		require.NoError(t, g.Submit(t.Context(), 1))
		require.NoError(t, g.Submit(t.Context(), 2))
		g.Close()
		vals, errs := results(g)
		require.Len(t, errs, 2)
		assert.Equal(t, []int{1, 2}, vals, "each failed item as submitted, in order")
		var ae *group.AttemptsError
		require.ErrorAs(t, errs[0], &ae)
		assert.Equal(t, 3, ae.Attempts)
		assert.ErrorIs(t, errs[0], errTransient)
		assert.Contains(t, errs[0].Error(), "after 3 attempts")
		assert.ErrorIs(t, errs[1], errBoom)
		assert.NotErrorAs(t, errs[1], &ae, "not retried")
		assert.Equal(t, []int{1, 1, 1}, without(calls(), 2))
		assert.Equal(t, int64(2), g.Stats().Retried)
		assert.Equal(t, int64(2), g.Stats().Failed)
	})
}

// without returns s without the elements equal to v.
func without(s []int, v int) []int {
	var out []int
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// A serial group waits for its retrying item: the next item starts only once the retried one has
// succeeded. An ordered group's results keep their order.
func TestRetryKeepsSerialOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		work, calls := flaky(map[int]int{0: 2, 3: 1})
		r := group.New[string](work, group.Workers(4))
		defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
		policy := group.Retry(group.RetryPolicy{Attempts: 5, Backoff: time.Millisecond})
		g, err := r.Open(t.Context(), "serial", group.Serial(), policy)
		require.NoError(t, err)
		for i := range 5 {
			require.NoError(t, g.Submit(t.Context(), i))
		}
		g.Close()
		vals, errs := results(g)
		assert.Equal(t, []int{0, 2, 4, 6, 8}, vals)
		assert.Equal(t, make([]error, 5), errs)
		assert.Equal(t, []int{0, 0, 0, 1, 2, 3, 3, 4}, calls(), "no item started while one waited")

		work, _ = flaky(map[int]int{0: 2, 3: 1})
		r2 := group.New[string](work, group.Workers(4))
		defer func() { require.NoError(t, r2.Shutdown(t.Context())) }()
		o, err := r2.Open(t.Context(), "ordered", group.Ordered(), policy)
		require.NoError(t, err)
		for i := range 5 {
			require.NoError(t, o.Submit(t.Context(), i))
		}
		o.Close()
		vals, _ = results(o)
		assert.Equal(t, []int{0, 2, 4, 6, 8}, vals, "in submission order")
	})
}

// In a FailFast group a retryable error fails the group at once: retries do not apply.
func TestRetryDoesNotApplyToFailFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		work, calls := flaky(map[int]int{0: 1})
		r := group.New[string](work, group.Workers(1))
		defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
		g, err := r.Open(t.Context(), "ff", group.Serial(), group.FailFast(), group.Retry(group.RetryPolicy{Attempts: 3}))
		require.NoError(t, err)
		require.NoError(t, g.Submit(t.Context(), 0))
		_ = g.Submit(t.Context(), 1) // refused or failed: the group fails fast at item 0
		g.Close()
		_, errs := results(g)
		require.NotEmpty(t, errs)
		assert.ErrorIs(t, errs[0], errTransient)
		for _, err := range errs[1:] {
			assert.ErrorIs(t, err, group.ErrGroupFailed)
		}
		assert.Equal(t, []int{0}, calls(), "item 0 ran once and nothing after it")
		assert.Zero(t, g.Stats().Retried)
	})
}

// A group whose context ends while an item waits out its backoff fails that item with the cause.
func TestRetryWaitingItemFailsWhenTheContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		work, calls := flaky(map[int]int{0: 9})
		r := group.New[string](work, group.Workers(1))
		defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
		ctx, cancel := context.WithCancel(t.Context())
		g, err := r.Open(ctx, "g", group.Retry(group.RetryPolicy{Attempts: 5, Backoff: time.Hour}))
		require.NoError(t, err)
		require.NoError(t, g.Submit(t.Context(), 0))
		synctest.Wait() // failed once: waits an hour
		cancel()
		_, errs := results(g)
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], context.Canceled)
		assert.Equal(t, []int{0}, calls())
	})
}

// Retry panics on a policy with no attempts or a negative backoff, naming the value; Retryable
// of nil is nil, and errors.Is reaches a marked error.
func TestRetryBadPolicyPanics(t *testing.T) {
	assert.PanicsWithValue(t, "group: Retry: Attempts 0: must be at least 1", func() { group.Retry(group.RetryPolicy{}) })
	assert.PanicsWithValue(t, "group: Retry: Backoff -1s: must not be negative", func() {
		group.Retry(group.RetryPolicy{Attempts: 2, Backoff: -time.Second})
	})
	assert.PanicsWithValue(t, "group: Retry: MaxBackoff -1s: must not be negative", func() {
		group.Retry(group.RetryPolicy{Attempts: 2, MaxBackoff: -time.Second})
	})
	assert.NoError(t, group.Retryable(nil))
	assert.ErrorIs(t, group.Retryable(errBoom), errBoom)
	assert.True(t, group.IsRetryable(group.Retryable(errBoom)))
	assert.False(t, group.IsRetryable(errBoom))
}

// A retried item whose submitting context ends as a worker takes it again fails with an
// *AttemptsError naming the attempts it made, never as expired (which says it never ran). The
// deadlines are drawn around the backoffs so that many end just as a retry is taken: in real
// time, since the race is between the deadline and the worker's check.
func TestRetryEndedContextIsNotExpiry(t *testing.T) {
	const rounds, items, fails = 20, 100, 3
	var mu sync.Mutex
	runs := map[int]int{}
	work := func(_ context.Context, v int) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		runs[v]++
		if runs[v] <= fails {
			return v, group.Retryable(errTransient)
		}
		return v, nil
	}
	r := group.New[int](work, group.Workers(1))
	defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
	policy := group.RetryPolicy{Attempts: fails + 1, Backoff: 20 * time.Microsecond, MaxBackoff: 200 * time.Microsecond}
	for round := range rounds {
		g, err := r.Open(t.Context(), round, group.Ordered(), group.Retry(policy), group.Window(items))
		require.NoError(t, err)
		var cancels []context.CancelFunc
		accepted := 0
		for i := range items {
			ctx, cancel := context.WithTimeout(t.Context(), time.Duration(100+10*i)*time.Microsecond)
			cancels = append(cancels, cancel)
			if err := g.Submit(ctx, round*items+i); err != nil {
				require.ErrorIs(t, err, context.DeadlineExceeded, "refused only when its deadline has passed")
				continue
			}
			accepted++
		}
		g.Close()
		got := 0
		for v, err := range g.Results() {
			got++
			mu.Lock()
			n := runs[v]
			mu.Unlock()
			var ae *group.AttemptsError
			switch {
			case err == nil:
				assert.Equal(t, fails+1, n, "item %d succeeded", v)
			case errors.Is(err, group.ErrExpired):
				assert.Zero(t, n, "item %d expired after it ran: %v", v, err)
			case errors.As(err, &ae):
				assert.Equal(t, n, ae.Attempts, "item %d: %v", v, err)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			default:
				t.Errorf("item %d: unexpected error %v", v, err)
			}
		}
		assert.Equal(t, accepted, got, "one result an accepted item")
		for _, cancel := range cancels {
			cancel()
		}
	}
}
