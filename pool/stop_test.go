package pool_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/pool"
)

func identity(_ context.Context, v int) (int, error) { return v, nil }

// Breaking out of the results after any number of them ends every goroutine of the run before the
// range statement ends, even though the source would never end.
func TestRunBreakLeavesNothingBehind(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(0, 3000).Draw(t, "k")
		opts, _ := drawOptions(t)
		n := 0
		for _, err := range pool.Run(context.Background(), neverEnding, identity, opts...) {
			require.NoError(t, err)
			if n == k {
				break
			}
			n++
		}
		assert.Equal(t, k, n)
		assert.NoError(t, goleak.Find(), "no goroutine outlives the range")
	})
}

// Cancelling the context ends the run: every item read from the source gets its result (the
// work func's, or the cancellation), the last pair is the cancellation, and nothing is left.
func TestRunCancelEndsTheRun(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(0, 3000).Draw(t, "k")
		opts, _ := drawOptions(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var got []outcome
		for v, err := range pool.Run(ctx, neverEnding, identity, opts...) {
			got = append(got, outcome{v, err})
			if len(got) == k+1 {
				cancel()
			}
		}
		require.Greater(t, len(got), k, "results before the cancel")
		last := got[len(got)-1]
		assert.ErrorIs(t, last.err, context.Canceled, "the run's last word is the cancellation")
		for _, o := range got[:len(got)-1] {
			if o.err != nil {
				assert.ErrorIs(t, o.err, context.Canceled)
			}
		}
		assert.NoError(t, goleak.Find())
	})
}

// With one worker, fail-fast starts nothing after the failing item and ends the results with it.
func TestRunFailFastOneWorker(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 2000).Draw(t, "n")
		e := rapid.IntRange(0, n-1).Draw(t, "e")
		var started atomic.Int64
		work := func(_ context.Context, v int) (int, error) {
			started.Add(1)
			if v == e {
				return 0, errOdd
			}
			return v, nil
		}
		got := collect(pool.Run(context.Background(), sourceOf(n), work, pool.FailFast(), pool.Workers(1)))
		require.Len(t, got, e+1, "the successes before the error, then the error")
		for i, o := range got[:e] {
			assert.Equal(t, outcome{v: i}, o)
		}
		assert.ErrorIs(t, got[e].err, errOdd)
		assert.Equal(t, e, got[e].v, "the error comes with its item")
		assert.Equal(t, int64(e+1), started.Load(), "no item started after the failure")
	})
}

// With many workers, no item starts once the consumer has the first error, and that error is the
// last result.
func TestRunFailFastManyWorkers(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts, _ := drawOptions(t)
		e := rapid.IntRange(0, 3000).Draw(t, "e")
		var started atomic.Int64
		work := func(_ context.Context, v int) (int, error) {
			started.Add(1)
			runtime.Gosched()
			if v >= e {
				return 0, errOdd
			}
			return v, nil
		}
		var errs int
		var atError int64
		for _, err := range pool.Run(context.Background(), neverEnding, work, append(opts, pool.FailFast())...) {
			require.Zero(t, errs, "nothing after the first error")
			if err != nil {
				errs++
				atError = started.Load()
				assert.ErrorIs(t, err, errOdd)
			}
		}
		assert.Equal(t, 1, errs)
		assert.Equal(t, atError, started.Load(), "no item started after the error was delivered")
	})
}

func TestRunFailFastOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	stop := errors.New("enough")
	var got []outcome
	for v, err := range pool.Run(ctx, neverEnding, identity, pool.FailFast()) {
		got = append(got, outcome{v, err})
		if len(got) == 100 {
			cancel(stop)
		}
	}
	require.GreaterOrEqual(t, len(got), 101)
	assert.ErrorIs(t, got[len(got)-1].err, stop, "the cause ends the run")
	for _, o := range got[:len(got)-1] {
		assert.NoError(t, o.err)
	}
}

func sourceOf(n int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// causeOf records the cause of the context a work func was given, once it has ended.
type causeOf struct {
	ctx atomic.Pointer[context.Context]
}

func (c *causeOf) keep(ctx context.Context) {
	c.ctx.CompareAndSwap(nil, &ctx)
}

func (c *causeOf) cause(t *testing.T) error {
	t.Helper()
	ctx := c.ctx.Load()
	require.NotNil(t, ctx, "a work func ran")
	return context.Cause(*ctx)
}

// A run's context ends with ErrFinished after its last result, and with ErrStopped when the
// consumer stops early (work funcs still running see it); both are cancellations.
func TestRunContextCauseAtTheEnd(t *testing.T) {
	t.Run("finished", func(t *testing.T) {
		var c causeOf
		work := func(ctx context.Context, v int) (int, error) { c.keep(ctx); return v, nil }
		for _, err := range pool.Run(context.Background(), sourceOf(100), work, pool.Workers(3)) {
			require.NoError(t, err)
		}
		assert.Equal(t, pool.ErrFinished, c.cause(t))
		assert.ErrorIs(t, c.cause(t), context.Canceled)
	})
	t.Run("stopped", func(t *testing.T) {
		causes := make(chan error, 8)
		work := func(ctx context.Context, v int) (int, error) {
			if v == 0 {
				return v, nil
			}
			<-ctx.Done() // running when the consumer stops: it learns why from its context
			causes <- context.Cause(ctx)
			return v, nil
		}
		for range pool.Run(t.Context(), neverEnding, work, pool.Workers(3), pool.MaxBatch(1)) {
			break
		}
		close(causes)
		require.NotEmpty(t, causes, "work funcs were running when the consumer stopped")
		for err := range causes {
			assert.Equal(t, pool.ErrStopped, err)
			assert.ErrorIs(t, err, context.Canceled)
		}
	})
	t.Run("RunChan finished", func(t *testing.T) {
		var c causeOf
		work := func(ctx context.Context, v int) (int, error) { c.keep(ctx); return v, nil }
		src := make(chan int, 3)
		src <- 1
		src <- 2
		close(src)
		for r := range pool.RunChan(context.Background(), src, work) {
			require.NoError(t, r.Err)
		}
		assert.Equal(t, pool.ErrFinished, c.cause(t))
	})
	t.Run("Slice finished", func(t *testing.T) {
		var c causeOf
		work := func(ctx context.Context, v int) (int, error) { c.keep(ctx); return v, nil }
		_, errs := pool.Slice(context.Background(), ints(10), work)
		require.Nil(t, errs)
		assert.Equal(t, pool.ErrFinished, c.cause(t))
	})
	t.Run("parent's cause", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		stop := errors.New("shutting down")
		var c causeOf
		work := func(ctx context.Context, v int) (int, error) {
			c.keep(ctx)
			if v == 10 {
				cancel(stop)
			}
			return v, nil
		}
		for range pool.Run(ctx, neverEnding, work) {
		}
		assert.Equal(t, stop, c.cause(t), "the parent's cause, not the run's own")
	})
	assert.Equal(t, "pool: the consumer stopped reading results", pool.ErrStopped.Error())
	assert.Equal(t, "pool: the run finished", pool.ErrFinished.Error())
}

// The context work funcs get behaves as any context when the run ends it: a context derived
// from it ends with it, with the run's cause, and an AfterFunc registered on it runs.
func TestRunContextDerivedEndsWithTheRun(t *testing.T) {
	for _, parent := range []context.Context{context.Background(), t.Context()} {
		var kept causeOf
		var child causeOf
		after := make(chan struct{})
		var once sync.Once
		work := func(ctx context.Context, v int) (int, error) {
			once.Do(func() {
				kept.keep(ctx)
				c, cancel := context.WithCancel(ctx)
				t.Cleanup(cancel)
				child.keep(c)
				context.AfterFunc(ctx, func() { close(after) })
			})
			return v, nil
		}
		for _, err := range pool.Run(parent, sourceOf(100), work) {
			require.NoError(t, err)
		}
		<-after // the run's context ended, so the AfterFunc ran
		assert.Equal(t, pool.ErrFinished, kept.cause(t))
		assert.Equal(t, pool.ErrFinished, child.cause(t), "a derived context ends with the run's cause")
		assert.ErrorIs(t, (*child.ctx.Load()).Err(), context.Canceled)
	}
}
