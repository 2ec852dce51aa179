package pool_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagecoach-go/stagecoach/pool"
)

// panickingSource yields 0 to k-1, then panics.
func panickingSource(k int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for i := range k {
			if !yield(i) {
				return
			}
		}
		panic("bad input at " + strconv.Itoa(k))
	}
}

// A source that panics ends the run, and the panic reaches the consumer as the run's last
// result, with its value and stack; every item read before it still has a result, and the
// process survives.
func TestRunSourcePanicReachesTheConsumer(t *testing.T) {
	for _, ff := range []bool{false, true} {
		t.Run(fmt.Sprintf("failFast=%v", ff), func(t *testing.T) {
			opts := []pool.Option{pool.Workers(3)}
			if ff {
				opts = append(opts, pool.FailFast())
			}
			got := collect(pool.Run(t.Context(), panickingSource(500), identity, opts...))
			require.NotEmpty(t, got)
			last := got[len(got)-1]
			var pe *pool.PanicError
			require.ErrorAs(t, last.err, &pe, "the run's last result carries the panic")
			assert.Equal(t, "bad input at 500", pe.Value)
			assert.Contains(t, string(pe.Stack), "panickingSource", "the stack is the source's")
			seen := map[int]bool{}
			for _, o := range got[:len(got)-1] {
				assert.False(t, seen[o.v], "item %d twice", o.v)
				seen[o.v] = true
				if o.err != nil {
					assert.ErrorAs(t, o.err, &pe, "an item not run fails with the panic")
				}
			}
			if !ff {
				assert.Len(t, seen, 500, "every item read has a result")
			}
			assert.NoError(t, goleak.Find())
		})
	}
}

// With Repanic, the source's panic is re-raised on the consumer's goroutine once the run has ended.
func TestRunSourcePanicRepanics(t *testing.T) {
	defer func() {
		pe, ok := recover().(*pool.PanicError)
		require.True(t, ok, "the re-raised value is the PanicError")
		assert.Equal(t, "bad input at 10", pe.Value)
		assert.NoError(t, goleak.Find(), "the run ended before the panic was re-raised")
	}()
	for range pool.Run(t.Context(), panickingSource(10), identity, pool.Repanic()) {
	}
	t.Fatal("the run did not re-raise the source's panic")
}

// A source that calls runtime.Goexit ends the run with ErrGoexit, instead of hanging it.
func TestRunSourceGoexit(t *testing.T) {
	src := func(yield func(int) bool) {
		yield(1)
		runtime.Goexit()
	}
	got := collect(pool.Run(t.Context(), src, identity))
	require.NotEmpty(t, got)
	assert.ErrorIs(t, got[len(got)-1].err, pool.ErrGoexit)
}

// Map's source panics the same way.
func TestMapSourcePanic(t *testing.T) {
	toString := func(_ context.Context, v int) (string, error) { return strconv.Itoa(v), nil }
	var last error
	for _, err := range pool.Map(t.Context(), panickingSource(3), toString) {
		last = err
	}
	var pe *pool.PanicError
	assert.ErrorAs(t, last, &pe)
}

// A work func that calls runtime.Goexit (as t.FailNow does) fails its item with ErrGoexit; the
// worker is replaced, every other item gets its result, and the run ends.
func TestRunWorkGoexit(t *testing.T) {
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			work := func(_ context.Context, v int) (int, error) {
				if v%100 == 7 {
					runtime.Goexit()
				}
				return v, nil
			}
			got := collect(pool.Run(t.Context(), slices.Values(ints(1000)), work, pool.Workers(workers), pool.Ordered()))
			require.Len(t, got, 1000, "every item has its result")
			for i, o := range got {
				assert.Equal(t, i, o.v)
				if i%100 == 7 {
					assert.ErrorIs(t, o.err, pool.ErrGoexit)
				} else {
					assert.NoError(t, o.err)
				}
			}
			assert.NoError(t, goleak.Find())
		})
	}
}

// A RunChan consumer that cancels and keeps reading gets a result for every item the run took
// from the source, then the cause, and the channel closes.
func TestRunChanCancelKeepsEveryItemRead(t *testing.T) {
	for round := range 20 {
		ctx, cancel := context.WithCancel(t.Context())
		src := make(chan int) // unbuffered: a send completes only when the run has taken the item
		stop := make(chan struct{})
		var sent int
		fed := make(chan struct{})
		go func() {
			defer close(fed)
			for i := 0; ; i++ {
				select {
				case src <- i:
					sent++
				case <-stop:
					return
				}
			}
		}()
		var got []pool.Result[int]
		for r := range pool.RunChan(ctx, src, identity, pool.Workers(1+round%4)) {
			got = append(got, r)
			if len(got) == 100 {
				cancel()
			}
		}
		close(stop)
		<-fed
		cancel()
		require.NotEmpty(t, got)
		assert.ErrorIs(t, got[len(got)-1].Err, context.Canceled, "the last result is the cause")
		seen := map[int]bool{}
		for _, r := range got[:len(got)-1] {
			assert.False(t, seen[r.Value], "item %d twice", r.Value)
			seen[r.Value] = true
		}
		assert.Len(t, seen, sent, "round %d: every item taken from the source has a result", round)
	}
}

// A run whose context has already ended starts nothing, and says why.
func TestRunCancelledContextStartsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for round := range 50 {
		var calls atomic.Int64
		work := func(_ context.Context, v int) (int, error) { calls.Add(1); return v, nil }
		got := collect(pool.Run(ctx, slices.Values(ints(20_000)), work, pool.Workers(1+round%4)))
		require.Zero(t, calls.Load(), "round %d: the work func ran", round)
		require.Len(t, got, 1)
		assert.ErrorIs(t, got[0].err, context.Canceled)
	}
}

// An ordered run holds back at most the window of results: items claimed (running or finished)
// and not yet delivered never exceed it.
func TestRunOrderedWindowBounds(t *testing.T) {
	for _, tt := range []struct{ window, workers int }{{1, 8}, {2, 4}, {3, 2}, {16, 8}, {100, 3}} {
		t.Run(fmt.Sprintf("window=%d,workers=%d", tt.window, tt.workers), func(t *testing.T) {
			var started, delivered, worst atomic.Int64
			work := func(_ context.Context, v int) (int, error) {
				held := started.Add(1) - delivered.Load()
				for {
					w := worst.Load()
					if held <= w || worst.CompareAndSwap(w, held) {
						break
					}
				}
				for range v % 5 {
					runtime.Gosched() // out-of-order finishes
				}
				return v, nil
			}
			next := 0
			for v, err := range pool.Run(t.Context(), slices.Values(ints(3000)), work,
				pool.Ordered(), pool.Window(tt.window), pool.Workers(tt.workers)) {
				require.NoError(t, err)
				require.Equal(t, next, v)
				next++
				delivered.Add(1)
			}
			assert.LessOrEqual(t, worst.Load(), int64(tt.window), "items held at once")
		})
	}
}

// Slow items are spread over idle workers before they are batched: N items that can only finish
// together (each waits for all N to have started) finish on N workers.
func TestRunSpreadsSlowItems(t *testing.T) {
	const n = 4
	var all sync.WaitGroup
	all.Add(n)
	work := func(_ context.Context, v int) (int, error) {
		all.Done()
		done := make(chan struct{})
		go func() { all.Wait(); close(done) }()
		select {
		case <-done:
			return v, nil
		case <-time.After(10 * time.Second): // failure bound, not synchronisation
			return v, errors.New("the items were not spread over the workers")
		}
	}
	for _, err := range pool.Run(t.Context(), slices.Values(ints(n)), work, pool.Workers(n)) {
		require.NoError(t, err)
	}
}

// A finished result does not wait for a long batch: with items of a millisecond, the first result
// comes while few items have started (a batch of the default size would hold it for hundreds).
func TestRunFirstResultComesEarly(t *testing.T) {
	var started atomic.Int64
	work := func(_ context.Context, v int) (int, error) {
		started.Add(1)
		time.Sleep(time.Millisecond) // the item's service time
		return v, nil
	}
	for _, err := range pool.Run(t.Context(), slices.Values(ints(2000)), work, pool.Workers(4)) {
		require.NoError(t, err)
		assert.Less(t, started.Load(), int64(64), "items started before the first result")
		break
	}
}

// Map takes items of one type to results of another; a failed item's error says which item it was.
func TestMapChangesTheType(t *testing.T) {
	parse := func(_ context.Context, s string) (int, error) { return strconv.Atoi(s) }
	src := slices.Values([]string{"1", "22", "x", "333"})
	var got []int
	var bad []string
	for v, err := range pool.Map(t.Context(), src, parse, pool.Ordered()) {
		if err != nil {
			var ie *pool.ItemError[string]
			require.ErrorAs(t, err, &ie)
			var ne *strconv.NumError
			assert.ErrorAs(t, err, &ne, "the cause is reached through the ItemError")
			bad = append(bad, ie.Item)
			continue
		}
		got = append(got, v)
	}
	assert.Equal(t, []int{1, 22, 333}, got)
	assert.Equal(t, []string{"x"}, bad)
}

// A run allocates its fixed set-up and nothing per item.
func TestRunAllocatesNothingPerItem(t *testing.T) {
	allocs := func(n int) float64 {
		items := ints(n)
		return testing.AllocsPerRun(20, func() {
			for _, err := range pool.Run(context.Background(), slices.Values(items), identity, pool.Workers(2)) {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	small, large := allocs(100), allocs(50_000)
	assert.Less(t, large-small, 10.0, "allocations for 49,900 more items (small run: %v)", small)
}
