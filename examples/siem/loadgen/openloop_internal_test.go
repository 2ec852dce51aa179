package loadgen

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// fakePacer sleeps on the clock of a synctest bubble.
var fakePacer = pacer{sleep: time.Sleep}

func every(gap time.Duration, n int) []time.Duration {
	at := make([]time.Duration, n)
	for i := range at {
		at[i] = time.Duration(i) * gap
	}
	return at
}

// timed drives sched over conns connections whose request a takes took(a), on the bubble's
// clock, and returns each arrival's latency from its scheduled start (-1: never called).
func timed(ctx context.Context, sched []time.Duration, conns int, took func(a int) time.Duration) ([]time.Duration, driven) {
	lat := make([]time.Duration, len(sched))
	for a := range lat {
		lat[a] = -1
	}
	var mu sync.Mutex
	run := fakePacer.drive(ctx, sched, conns, func(a int, due time.Time) {
		time.Sleep(took(a))
		mu.Lock()
		defer mu.Unlock()
		lat[a] = time.Since(due)
	})
	return lat, run
}

// A stall of the service counts in the latency of every request that was due during it, from
// the time it was due: the requests that waited for the one connection are not timed from when
// they could be sent (no coordinated omission). A closed-loop client would have timed them at
// zero.
func TestDriveTimesFromTheScheduledStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lat, run := timed(t.Context(), every(time.Millisecond, 10), 1, func(a int) time.Duration {
			if a == 0 {
				return 10 * time.Millisecond
			}
			return 0
		})
		for a, l := range lat {
			assert.Equal(t, 10*time.Millisecond-time.Duration(a)*time.Millisecond, l, "arrival %d", a)
		}
		assert.Equal(t, driven{unsent: 0, elapsed: 10 * time.Millisecond}, run)
	})
}

// The arrivals wait in one queue for the first free connection: while one connection is stuck
// on a slow request, the others serve every later arrival on time (dealt to the connections in
// turn, every other arrival would wait behind the slow one).
func TestDriveSharesOneQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lat, run := timed(t.Context(), every(time.Millisecond, 10), 2, func(a int) time.Duration {
			if a == 0 {
				return 20 * time.Millisecond
			}
			return time.Millisecond / 2
		})
		assert.Equal(t, 20*time.Millisecond, lat[0])
		for a := 1; a < 10; a++ {
			assert.Equal(t, time.Millisecond/2, lat[a], "arrival %d", a)
		}
		assert.Equal(t, 20*time.Millisecond, run.elapsed)
	})
}

// When the run's context ends, the arrivals not yet sent are skipped and counted unsent; every
// arrival is either sent once or counted.
func TestDriveCountsUnsent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		lat, run := timed(ctx, every(time.Millisecond, 10), 1, func(a int) time.Duration {
			if a == 2 {
				cancel()
			}
			return 0
		})
		assert.Equal(t, 7, run.unsent)
		assert.Equal(t, []time.Duration{0, 0, 0, -1, -1, -1, -1, -1, -1, -1}, lat)
	})
}

// Over random schedules, connection counts and service times, every arrival is sent exactly
// once, its latency is at least its own service time, and the pacer never releases one early:
// the run lasts at least until the last arrival's end.
func TestStressDriveSendsEachArrivalOnce(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		gaps := rapid.SliceOfN(rapid.Int64Range(0, int64(3*time.Millisecond)), 1, 60).Draw(rt, "gaps")
		conns := rapid.IntRange(1, 8).Draw(rt, "conns")
		service := rapid.SliceOfN(rapid.Int64Range(0, int64(5*time.Millisecond)), len(gaps), len(gaps)).Draw(rt, "service")
		sched := make([]time.Duration, len(gaps))
		for i := 1; i < len(gaps); i++ {
			sched[i] = sched[i-1] + time.Duration(gaps[i])
		}
		var calls []int
		var lat []time.Duration
		var run driven
		synctest.Test(t, func(t *testing.T) {
			var mu sync.Mutex
			lat, run = timed(t.Context(), sched, conns, func(a int) time.Duration {
				mu.Lock()
				calls = append(calls, a)
				mu.Unlock()
				return time.Duration(service[a])
			})
		})
		slices.Sort(calls)
		want := make([]int, len(sched))
		for i := range want {
			want[i] = i
		}
		require.Equal(rt, want, calls, "every arrival sent once")
		assert.Zero(rt, run.unsent)
		for a, l := range lat {
			assert.GreaterOrEqual(rt, l, time.Duration(service[a]), "arrival %d", a)
			assert.GreaterOrEqual(rt, run.elapsed, sched[a]+l, "arrival %d ends within the run", a)
		}
	})
}

// answeredBy counts the events of the requests (batch each) that sched and lat end by d.
func answeredBy(sched, lat []time.Duration, d time.Duration, batch int) int {
	n := 0
	for a, l := range lat {
		if l >= 0 && sched[a]+l <= d {
			n += batch
		}
	}
	return n
}

// A run that achieved less than Reached of its offered rate reports it, and no latency.
func TestFinishOpenReportsNotReached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// One connection, 10 ms a request, 1000 arrivals a second for 20 ms: capacity 100 a
		// second, a tenth of the offered rate.
		// By the end of the arrivals, 2 of them are answered.
		sched := every(time.Millisecond, 20)
		lat, run := timed(t.Context(), sched, 1, func(int) time.Duration { return 10 * time.Millisecond })
		r := Report{Config: Config{Rate: 1000, Duration: 20 * time.Millisecond, Batch: 2, Arrivals: Constant},
			Scheduled: 20, Accepted: 40, Unsent: run.unsent, Elapsed: run.elapsed}
		r.finishOpen(lat, answeredBy(sched, lat, r.Duration, 2))
		assert.Equal(t, 200*time.Millisecond, r.Elapsed)
		assert.InDelta(t, 1000, r.Offered, 1e-9)
		assert.InDelta(t, 100, r.Achieved, 1e-9)
		assert.InDelta(t, 200, r.EventsPerSec, 1e-9)
		assert.False(t, r.Reached)
		assert.Zero(t, r.P50+r.P99+r.P999, "no latency for a rate not reached")
		assert.Contains(t, r.Outcome(), "offered 1000.0/s, achieved 100.0/s by the end of the arrivals; 200 events/s over 200ms: NOT REACHED (10% of offered, below 95%): latencies not reported")
		assert.NotContains(t, r.Outcome(), "p99")
	})
}

// A run that kept up reports its latencies from the scheduled start.
func TestFinishOpenReportsLatencies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sched := every(10*time.Millisecond, 100)
		lat, run := timed(t.Context(), sched, 4, func(a int) time.Duration {
			return time.Duration(a+1) * 100 * time.Microsecond // 0.1 ms to 10 ms: each ends by the next arrival
		})
		r := Report{Config: Config{Rate: 100, Duration: time.Second, Batch: 1, Arrivals: Constant},
			Scheduled: 100, Accepted: 100, Unsent: run.unsent, Elapsed: run.elapsed}
		r.finishOpen(lat, answeredBy(sched, lat, r.Duration, 1))
		assert.True(t, r.Reached)
		assert.InDelta(t, 100, r.Achieved, 1e-9, "the last answer comes at the end of the arrivals")
		assert.Equal(t, 5*time.Millisecond, r.P50)
		assert.Equal(t, 9900*time.Microsecond, r.P99)
		assert.Equal(t, 10*time.Millisecond, r.P999)
		assert.Contains(t, r.Outcome(), ": reached; latency from the scheduled start p50 5ms, p99 9.9ms, p99.9 10ms")
	})
}

// An arrival left unsent makes the run not reached, whatever the rate of the others.
func TestFinishOpenUnsentIsNotReached(t *testing.T) {
	r := Report{Config: Config{Rate: 100, Duration: time.Second, Batch: 1, Arrivals: Poisson},
		Scheduled: 100, Accepted: 99, Unsent: 1, Elapsed: time.Second}
	r.finishOpen([]time.Duration{time.Millisecond}, 99)
	assert.False(t, r.Reached)
	assert.Contains(t, r.Outcome(), "1 unsent when the run ended")
}
