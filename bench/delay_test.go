package bench_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/bench"
)

// However many goroutines wait at once, each wait returns, never before its wait has passed, and
// the delay counts every one.
func TestDelayWaitsAtLeastItsWait(t *testing.T) {
	d := bench.NewDelay(bench.IOWait)
	defer d.Stop()
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 64).Draw(t, "waiters")
		waits0, _ := d.Waited()
		took := make([]time.Duration, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				start := time.Now()
				if err := d.Wait(context.Background()); err != nil {
					panic(err)
				}
				took[i] = time.Since(start)
			})
		}
		wg.Wait()
		for i, dt := range took {
			if dt < bench.IOWait {
				t.Fatalf("wait %d took %v, less than %v", i, dt, bench.IOWait)
			}
		}
		if waits, _ := d.Waited(); waits-waits0 != int64(n) {
			t.Fatalf("counted %d waits, want %d", waits-waits0, n)
		}
	})
}

// A wait whose context ends returns the cause at once, even with a wait far longer than a test.
func TestDelayWaitHonoursItsContext(t *testing.T) {
	d := bench.NewDelay(time.Hour)
	defer d.Stop()
	cause := errors.New("client gone")
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan error)
	go func() { done <- d.Wait(ctx) }()
	cancel(cause)
	assert.ErrorIs(t, <-done, cause)
}

// Stop releases a waiter that would otherwise wait an hour, and later waits return at once.
func TestDelayStopReleasesWaiters(t *testing.T) {
	d := bench.NewDelay(time.Hour)
	waiting := make(chan error)
	go func() { waiting <- d.Wait(context.Background()) }()
	for d.Queued() == 0 {
		runtime.Gosched() // the waiter has not queued yet
	}
	d.Stop()
	require.NoError(t, <-waiting)
	assert.NoError(t, d.Wait(context.Background()))
	d.Stop()
}

// Stop wakes a waiter that has queued but not yet kicked the clock, however the two interleave: the
// clock, idle on an empty queue, must not take Stop for "nothing left to wake" (CI once hung here).
func TestDelayStopRacingAFirstWait(t *testing.T) {
	for range 300 {
		d := bench.NewDelay(time.Hour)
		waiting := make(chan error, 1)
		go func() { waiting <- d.Wait(context.Background()) }()
		for d.Queued() == 0 {
			runtime.Gosched()
		}
		d.Stop()
		select {
		case err := <-waiting:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("Stop returned and left a queued waiter waiting")
		}
	}
}

func TestNewDelayPanicsOnABadWait(t *testing.T) {
	assert.PanicsWithValue(t, "bench: a delay's wait must be positive, got 0s", func() { bench.NewDelay(0) })
}

// The typical wait is at least the nominal one, and Typical rejects a count below 1.
func TestDelayTypical(t *testing.T) {
	d := bench.NewDelay(bench.IOWait)
	defer d.Stop()
	assert.GreaterOrEqual(t, d.Typical(9), bench.IOWait)
	assert.PanicsWithValue(t, "bench: Typical needs at least 1 wait, got 0", func() { d.Typical(0) })
}
