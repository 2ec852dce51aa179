package group_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

// Closing a group, or its router, wakes every submitter blocked on its full window, not one.
func TestCloseWakesEveryBlockedSubmitter(t *testing.T) {
	for _, how := range []string{"group", "router"} {
		t.Run(how, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := group.New[string](double, group.Workers(2))
				g, err := r.Open(t.Context(), "g", group.Window(1))
				require.NoError(t, err)
				require.NoError(t, g.Submit(t.Context(), 0))
				errs := make(chan error, 5)
				for i := range 5 {
					go func() { errs <- g.Submit(t.Context(), i+1) }()
				}
				synctest.Wait() // every submitter is blocked on the full window
				if how == "group" {
					g.Close()
				} else {
					r.Close()
				}
				synctest.Wait()
				require.Len(t, errs, 5, "every blocked submitter returned")
				for range 5 {
					assert.Error(t, <-errs)
				}
				g.Close()
				for range g.Results() {
				}
				require.NoError(t, r.Shutdown(t.Context()))
			})
		})
	}
}

// A submitter woken for room whose own context has ended does not take the room away from the
// others: either it submits, or another blocked submitter does.
func TestRoomIsNotLostWithACancelledSubmitter(t *testing.T) {
	for round := range 20 {
		synctest.Test(t, func(t *testing.T) {
			r := group.New[string](double, group.Workers(1))
			g, err := r.Open(t.Context(), "g", group.Window(1))
			require.NoError(t, err)
			require.NoError(t, g.Submit(t.Context(), 0))
			ctxA, cancelA := context.WithCancel(t.Context())
			errA, errB := make(chan error, 1), make(chan error, 1)
			go func() { errA <- g.Submit(ctxA, 1) }()
			go func() { errB <- g.Submit(t.Context(), 2) }()
			synctest.Wait()
			for range g.Results() {
				break // frees the one slot, and hands the room token to A or B
			}
			cancelA() // before the one woken runs
			synctest.Wait()
			select {
			case err := <-errA:
				if err != nil {
					require.Len(t, errB, 1, "round %d: A gave up, so B took the room", round)
				}
			default:
				t.Fatalf("round %d: A neither submitted nor gave up", round)
			}
			g.Close()
			for range g.Results() {
			}
			synctest.Wait()
			require.NoError(t, r.Shutdown(t.Context()))
		})
	}
}

// A work func that calls runtime.Goexit fails its item with ErrGoexit; the worker is replaced and
// every other item gets its result, so Results and Shutdown return.
func TestGoexitInWorkFailsOnlyItsItem(t *testing.T) {
	work := func(_ context.Context, v int) (int, error) {
		if v%10 == 3 {
			runtime.Goexit()
		}
		return 2 * v, nil
	}
	r := group.New[string](work, group.Workers(2))
	g, err := r.Open(t.Context(), "g", group.Ordered())
	require.NoError(t, err)
	go func() {
		defer g.Close()
		for i := range 100 {
			if g.Submit(t.Context(), i) != nil {
				return
			}
		}
	}()
	i := 0
	for v, err := range g.Results() {
		if i%10 == 3 {
			assert.ErrorIs(t, err, group.ErrGoexit)
		} else {
			assert.NoError(t, err)
			assert.Equal(t, 2*i, v)
		}
		i++
	}
	assert.Equal(t, 100, i)
	require.NoError(t, r.Shutdown(t.Context()))
}

// N slow items of a new group on N idle workers run at once, each on its own worker.
func TestSlowItemsSpreadOverIdleWorkers(t *testing.T) {
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
	r := newRouter(t, work, group.Workers(n))
	g, err := r.Open(t.Context(), "g")
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, g.Submit(t.Context(), i))
	}
	g.Close()
	for _, err := range g.Results() {
		require.NoError(t, err)
	}
}

// Once the group's context ends, no item of it starts: items already handed to a worker fail
// with the cause instead of running.
func TestNoItemStartsAfterTheGroupsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		release := make(chan struct{})
		var calls atomic.Int64
		work := func(_ context.Context, v int) (int, error) {
			if calls.Add(1) == 1 {
				<-release
			}
			return v, nil
		}
		r := group.New[string](work, group.Workers(1))
		g, err := r.Open(ctx, "g")
		require.NoError(t, err)
		for i := range 50 {
			require.NoError(t, g.Submit(t.Context(), i))
		}
		synctest.Wait() // the first item runs, the others wait
		cancel()
		synctest.Wait() // the group is reclaimed: every item not started has failed
		close(release)
		n, failed := 0, 0
		for _, err := range g.Results() {
			n++
			if err != nil {
				failed++
				assert.ErrorIs(t, err, context.Canceled)
			}
		}
		assert.Equal(t, 50, n, "every item has its result")
		assert.Equal(t, int64(1), calls.Load(), "only the item running when the context ended ran")
		assert.Equal(t, 49, failed)
		require.NoError(t, r.Shutdown(t.Context()))
	})
}

// A producer that polls TrySubmit against a full window allocates nothing for the refusals: the
// error names the group and wraps ErrWindowFull, and is made once.
func TestTrySubmitRefusalAllocatesNothing(t *testing.T) {
	release := make(chan struct{})
	r := newRouter(t, func(_ context.Context, v int) (int, error) { <-release; return v, nil })
	g, err := r.Open(t.Context(), "full", group.Window(1))
	require.NoError(t, err)
	require.NoError(t, g.TrySubmit(1))
	first := g.TrySubmit(2)
	require.ErrorIs(t, first, group.ErrWindowFull)
	assert.Contains(t, first.Error(), "full", "the error names the group")
	allocs := testing.AllocsPerRun(100, func() {
		if !errors.Is(g.TrySubmit(3), group.ErrWindowFull) {
			t.Error("the window has room")
		}
	})
	assert.Zero(t, allocs, "allocations a refused TrySubmit")
	close(release)
	g.Close()
	for range g.Results() {
	}
}

// The window bounds what a reader that broke out of its range holds: its unread results keep
// their slots.
func TestWindowCountsResultsTakenAndNotRead(t *testing.T) {
	r := newRouter(t, double)
	g, err := r.Open(t.Context(), "g", group.Window(4))
	require.NoError(t, err)
	for i := range 4 {
		require.NoError(t, g.Submit(t.Context(), i))
	}
	for range g.Results() {
		break // read one result
	}
	require.NoError(t, g.TrySubmit(4), "the one result read made room for one item")
	assert.ErrorIs(t, g.TrySubmit(5), group.ErrWindowFull, "the three unread results still count")
	g.Close()
	n := 0
	for range g.Results() {
		n++
	}
	assert.Equal(t, 4, n, "the three put back and the new one")
}

// A second goroutine that ranges over a group's results while one is under way panics with a
// message that says so, instead of racing on the reader's buffer.
func TestSecondConcurrentReaderPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := group.New[string](double)
		g, err := r.Open(t.Context(), "orders")
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range g.Results() {
			}
		}()
		synctest.Wait() // the first reader waits for results
		assert.PanicsWithValue(t,
			"group orders: Results: another goroutine is ranging over this group's results; one reader at a time",
			func() {
				for range g.Results() {
				}
			})
		g.Close()
		<-done
		require.NoError(t, r.Shutdown(t.Context()))
	})
}

// Open with a context that has already ended opens nothing and says why.
func TestOpenWithAnEndedContext(t *testing.T) {
	r := newRouter(t, double)
	ctx, cancel := context.WithCancelCause(t.Context())
	stop := errors.New("request gone")
	cancel(stop)
	g, err := r.Open(ctx, "g")
	assert.Nil(t, g)
	assert.ErrorIs(t, err, stop)
	assert.Zero(t, r.Len())
}

// Shutdown closes and waits; with a deadline it returns the deadline's cause instead of hanging
// on a work func that does not return.
func TestShutdown(t *testing.T) {
	release := make(chan struct{})
	work := func(_ context.Context, v int) (int, error) { <-release; return v, nil }
	r := group.New[string](work, group.Workers(1))
	g, err := r.Open(t.Context(), "g")
	require.NoError(t, err)
	require.NoError(t, g.Submit(t.Context(), 1))
	g.Close()
	ctx, cancel := context.WithCancelCause(t.Context())
	late := errors.New("too late")
	cancel(late)
	assert.ErrorIs(t, r.Shutdown(ctx), late, "the worker is still running")
	_, err = r.Open(t.Context(), "h")
	assert.ErrorIs(t, err, group.ErrRouterClosed)
	close(release)
	for range g.Results() {
	}
	assert.NoError(t, r.Shutdown(t.Context()))
}

// A fail-fast group ends at its first failure: running work funcs see their context cancelled
// with it, later submissions are refused, and every accepted item still gets exactly one result,
// the ones not started failing with ErrGroupFailed.
func TestFailFastGroup(t *testing.T) {
	boom := errors.New("boom")
	submitted := make(chan struct{})
	work := func(ctx context.Context, v int) (int, error) {
		if v == 5 {
			<-submitted // fail only once every item is accepted
			return v, boom
		}
		return v, nil
	}
	r := newRouter(t, work, group.Workers(2))
	g, err := r.Open(t.Context(), "g", group.FailFast(), group.Serial())
	require.NoError(t, err)
	for i := range 20 {
		require.NoError(t, g.Submit(t.Context(), i))
	}
	close(submitted)
	var got []error
	for _, err := range g.Results() {
		got = append(got, err)
		if len(got) == 20 {
			break
		}
	}
	require.Len(t, got, 20)
	for i, err := range got {
		switch {
		case i < 5:
			assert.NoError(t, err, "item %d ran before the failure", i)
		case i == 5:
			assert.ErrorIs(t, err, boom)
		default:
			assert.ErrorIs(t, err, group.ErrGroupFailed, "item %d", i)
			assert.ErrorIs(t, err, boom, "item %d names the first failure", i)
		}
	}
	assert.ErrorIs(t, g.Submit(t.Context(), 99), group.ErrGroupClosed)
	<-g.Done()
}

// A fail-fast group that is not serial takes its items in batches: the items of the failing
// item's batch that come after it do not start either. One worker runs the items in submission
// order, so exactly the items up to the failing one start.
func TestFailFastGroupStartsNothingAfterTheFailure(t *testing.T) {
	const n, bad = 5000, 4000
	boom := errors.New("boom")
	var started atomic.Int64
	submitted := make(chan struct{})
	work := func(_ context.Context, v int) (int, error) {
		if v == 0 {
			<-submitted // the rest wait in the group, to be taken in batches
		}
		started.Add(1)
		if v == bad {
			return v, boom
		}
		return v, nil
	}
	r := newRouter(t, work, group.Workers(1))
	g, err := r.Open(t.Context(), "g", group.FailFast(), group.Window(n))
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, g.Submit(t.Context(), i))
	}
	close(submitted)
	g.Close()
	results, failed := 0, 0
	for v, err := range g.Results() {
		results++
		if err != nil {
			failed++
			if v != bad {
				assert.ErrorIs(t, err, group.ErrGroupFailed, "item %d", v)
			}
			assert.ErrorIs(t, err, boom, "item %d names the first failure", v)
		}
	}
	assert.Equal(t, n, results, "every accepted item has its result")
	assert.Equal(t, n-bad, failed, "the failing item and every one after it")
	assert.Equal(t, int64(bad+1), started.Load(), "no item started after the failure")
}

// Repanic re-raises the work func's panic on the reader's goroutine.
func TestRepanicGroup(t *testing.T) {
	work := func(_ context.Context, v int) (int, error) { panic(fmt.Sprint("bad ", v)) }
	r := newRouter(t, work)
	g, err := r.Open(t.Context(), "g", group.Repanic())
	require.NoError(t, err)
	require.NoError(t, g.Submit(t.Context(), 7))
	g.Close()
	defer func() {
		pe, ok := recover().(*group.PanicError)
		require.True(t, ok)
		assert.Equal(t, "bad 7", pe.Value)
	}()
	for range g.Results() {
	}
	t.Fatal("no panic")
}

// Fairness without a clock: a new group's item starts after at most (workers + 1) x MaxQuantum
// items of a group with a large backlog have started since it arrived (the batches running when
// it arrives, and the one batch of the backlog ahead of it in the queue), not after the backlog.
func TestNewGroupOvertakesABacklog(t *testing.T) {
	const workers, backlog = 2, 20_000
	var startedA atomic.Int64
	atB := make(chan int64, 1)
	work := func(_ context.Context, v int) (int, error) {
		if v < 0 {
			atB <- startedA.Load()
			return v, nil
		}
		startedA.Add(1)
		for range 50 {
			runtime.Gosched() // a little work, so the backlog lasts
		}
		return v, nil
	}
	r := newRouter(t, work, group.Workers(workers))
	a, err := r.Open(t.Context(), "A", group.Window(backlog))
	require.NoError(t, err)
	for i := range backlog {
		require.NoError(t, a.Submit(t.Context(), i))
	}
	b, err := r.Open(t.Context(), "B")
	require.NoError(t, err)
	// Counted from when B's Submit has returned: B has arrived. Counted from before the call, a
	// submitter delayed on the router's lock by the busy workers (a loaded machine, -race) saw
	// A's items of that delay counted too; the delay is given on failure.
	before := startedA.Load()
	require.NoError(t, b.Submit(t.Context(), -1))
	after := startedA.Load()
	overtaken := <-atB - after
	assert.LessOrEqual(t, overtaken, int64((workers+1)*group.MaxQuantum),
		"items of A started before B's (and %d while B's Submit ran)", after-before)
	a.Close()
	b.Close()
	for range b.Results() {
	}
	for range a.Results() {
	}
}

// In steady state a group allocates nothing per item.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	skipAllocsUnderRace(t)
	r := newRouter(t, double, group.Workers(2))
	g, err := r.Open(t.Context(), "g", group.Ordered())
	require.NoError(t, err)
	ctx := context.Background()
	round := func() {
		for i := range 200 {
			if err := g.Submit(ctx, i); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		for _, err := range g.Results() {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 200 {
				break
			}
		}
	}
	round() // warm up: the reader's buffers
	allocs := testing.AllocsPerRun(20, round)
	assert.LessOrEqual(t, allocs, 2.0, "allocations for 200 items")
	g.Close()
}
