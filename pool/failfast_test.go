package pool_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagecoach-go/stagecoach/pool"
)

// checkFailFastEnding checks the contract of every fail-fast run that reads n items: each item
// read has its result, or the run ends with an error (its last result, delivered once).
func checkFailFastEnding(t *testing.T, got []outcome, read int, wantErr error) {
	t.Helper()
	errs := 0
	for _, o := range got {
		if o.err != nil {
			errs++
		}
	}
	if wantErr == nil {
		require.Zero(t, errs, "no error: every item has its result")
		require.Len(t, got, read, "every item read has its result")
		return
	}
	require.NotEmpty(t, got, "the run ends with the error")
	require.Equal(t, 1, errs, "one error, the last result")
	assert.ErrorIs(t, got[len(got)-1].err, wantErr)
	assert.LessOrEqual(t, len(got)-1, read, "no result twice")
}

// Every way a fail-fast run can end: its own error, the context ending before, during and after
// the source is read, and the consumer breaking out.
func TestFailFastEveryEnding(t *testing.T) {
	const n = 100
	stopped := errors.New("stopped by the test")

	t.Run("own error", func(t *testing.T) {
		work := func(_ context.Context, v int) (int, error) {
			if v == 37 {
				return v, errOdd
			}
			return v, nil
		}
		got := collect(pool.Run(t.Context(), slices.Values(ints(n)), work, pool.FailFast(), pool.Workers(4)))
		checkFailFastEnding(t, got, n, errOdd)
		assert.Equal(t, 37, got[len(got)-1].v, "the error comes with its item")
	})

	t.Run("context ended before", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		cancel(stopped)
		var calls atomic.Int64
		work := func(_ context.Context, v int) (int, error) { calls.Add(1); return v, nil }
		got := collect(pool.Run(ctx, slices.Values(ints(n)), work, pool.FailFast(), pool.Workers(4)))
		assert.Zero(t, calls.Load(), "a run whose context has ended starts nothing")
		require.Len(t, got, 1)
		assert.ErrorIs(t, got[0].err, stopped)
	})

	t.Run("context ends while the source is read", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		read := 0
		src := func(yield func(int) bool) {
			for i := range n {
				read++
				if i == n/2 {
					cancel(stopped)
				}
				if !yield(i) {
					return
				}
			}
		}
		got := collect(pool.Run(ctx, src, identity, pool.FailFast(), pool.Workers(4)))
		checkFailFastEnding(t, got, read, stopped)
	})

	t.Run("context ends after the source is read", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(t.Context())
		defer cancel(nil)
		readAll := make(chan struct{})
		release := make(chan struct{})
		src := func(yield func(int) bool) {
			defer close(readAll)
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}
		work := func(_ context.Context, v int) (int, error) {
			<-release
			return v, nil
		}
		go func() {
			<-readAll
			cancel(stopped)
			close(release)
		}()
		got := collect(pool.Run(ctx, src, work, pool.FailFast(), pool.Workers(4)))
		checkFailFastEnding(t, got, n, stopped)
	})

	t.Run("consumer breaks out", func(t *testing.T) {
		k := 0
		for _, err := range pool.Run(t.Context(), neverEnding, identity, pool.FailFast(), pool.Workers(4)) {
			require.NoError(t, err)
			if k++; k == 50 {
				break
			}
		}
		assert.Equal(t, 50, k)
		assert.NoError(t, goleak.Find(), "nothing outlives the range")
	})
}
