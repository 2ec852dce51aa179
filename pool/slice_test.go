package pool_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/pool"
)

// Slice's results are fn applied to each item, in input order, with errors and panics in errs at
// their item's index, whatever the size and the workers.
func TestSliceMatchesSequential(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 3000).Draw(t, "n")
		workers := rapid.IntRange(1, 8).Draw(t, "workers")
		s := drawScript(t, n, rapid.Bool().Draw(t, "faults"))
		in := ints(n)
		toString := func(ctx context.Context, i int) (string, error) {
			v, err := s.work(ctx, i)
			return strconv.Itoa(v), err
		}
		out, errs := pool.Slice(context.Background(), in, toString, pool.Workers(workers))
		require.Len(t, out, n)
		anyErr := false
		for i := range in {
			switch {
			case s.fails[i]:
				require.ErrorIs(t, errs[i], errOdd, "item %d", i)
				anyErr = true
			case s.panics[i]:
				var pe *pool.PanicError
				require.ErrorAs(t, errs[i], &pe, "item %d", i)
				anyErr = true
			default:
				if errs != nil {
					require.NoError(t, errs[i], "item %d", i)
				}
				require.Equal(t, strconv.Itoa(3*i+1), out[i], "item %d", i)
			}
		}
		if !anyErr {
			assert.Nil(t, errs, "no error, no error slice")
		}
	})
}

// Every index is run exactly once, whatever the workers and sizes.
func TestStressSliceExactlyOnce(t *testing.T) {
	for run := range *stressRuns / 3 {
		n, workers := run*7%5000, 1+run%8
		calls := make([]atomic.Int32, n)
		out, errs := pool.Slice(t.Context(), ints(n), func(_ context.Context, i int) (int, error) {
			calls[i].Add(1)
			return 2 * i, nil
		}, pool.Workers(workers))
		require.Nil(t, errs)
		for i := range n {
			require.Equal(t, int32(1), calls[i].Load(), "run %d: item %d ran %d times", run, i, calls[i].Load())
			require.Equal(t, 2*i, out[i])
		}
	}
}

// With a context that has ended, Slice runs nothing and every item says why.
func TestSliceCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancelCause(t.Context())
	stop := errors.New("stop")
	cancel(stop)
	var calls atomic.Int64
	_, errs := pool.Slice(ctx, ints(1000), func(_ context.Context, i int) (int, error) { calls.Add(1); return i, nil })
	assert.Zero(t, calls.Load())
	require.Len(t, errs, 1000)
	for _, err := range errs {
		require.ErrorIs(t, err, stop)
	}
}

// With FailFast, the first failure stops the items not started: they fail with it.
func TestSliceFailFast(t *testing.T) {
	// A parent that can end is checked as a context; one that cannot, through the run's own flag.
	for name, parent := range map[string]context.Context{"cancellable": t.Context(), "background": context.Background()} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int64
			work := func(_ context.Context, i int) (int, error) {
				calls.Add(1)
				if i == 10 {
					return 0, errOdd
				}
				return i, nil
			}
			_, errs := pool.Slice(parent, ints(100_000), work, pool.FailFast(), pool.Workers(2))
			require.NotNil(t, errs)
			assert.ErrorIs(t, errs[10], errOdd)
			assert.Less(t, calls.Load(), int64(100_000), "items stopped starting")
			for i, err := range errs {
				if err != nil {
					assert.ErrorIs(t, err, errOdd, "item %d fails with the first failure", i)
				}
			}
		})
	}
}

// A work func that calls runtime.Goexit fails its item; every other item still runs.
func TestSliceGoexit(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			out, errs := pool.Slice(t.Context(), ints(500), func(_ context.Context, i int) (int, error) {
				if i%50 == 3 {
					runtime.Goexit()
				}
				return i + 1, nil
			}, pool.Workers(workers))
			require.Len(t, errs, 500)
			for i := range 500 {
				if i%50 == 3 {
					assert.ErrorIs(t, errs[i], pool.ErrGoexit)
				} else {
					assert.NoError(t, errs[i])
					assert.Equal(t, i+1, out[i])
				}
			}
		})
	}
}

// Repanic re-raises a panic on the caller's goroutine, once every worker has returned.
func TestSliceRepanic(t *testing.T) {
	defer func() {
		pe, ok := recover().(*pool.PanicError)
		require.True(t, ok)
		assert.Equal(t, "seven", pe.Value)
	}()
	pool.Slice(t.Context(), ints(20), func(_ context.Context, i int) (int, error) {
		if i == 7 {
			panic("seven")
		}
		return i, nil
	}, pool.Repanic())
	t.Fatal("no panic")
}

// Slice allocates its results and its fixed set-up, nothing per item.
func TestSliceAllocatesNothingPerItem(t *testing.T) {
	allocs := func(n int) float64 {
		in := ints(n)
		return testing.AllocsPerRun(20, func() { pool.Slice(context.Background(), in, identity, pool.Workers(2)) })
	}
	small, large := allocs(100), allocs(100_000)
	assert.Less(t, large-small, 3.0, "allocations for 99,900 more items (small: %v)", small)
}
