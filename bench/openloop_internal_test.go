package bench

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowServer answers every call through w's stages after waiting stall(item) on the fake clock of
// a synctest bubble: a server that takes that long.
type slowServer struct {
	w     Workload
	stall func(it Item) time.Duration
}

func (s slowServer) Connect(context.Context, int) (Conn, error) { return slowConn(s), nil }
func (slowServer) Close() error                                 { return nil }

type slowConn slowServer

func (c slowConn) Call(ctx context.Context, it Item) (Item, error) {
	time.Sleep(c.stall(it))
	return c.w.Apply(ctx, it)
}
func (slowConn) Close() error { return nil }

func every(gap time.Duration, n int) []time.Duration {
	at := make([]time.Duration, n)
	for i := range at {
		at[i] = time.Duration(i) * gap
	}
	return at
}

// A stall of the server counts in the latency of every request that was due during it, from the
// time it was due: the requests queued behind the stalled one on its connection are not timed
// from when they could be sent (no coordinated omission). A closed-loop client would have timed
// them at zero.
func TestOpenLoopTimesFromTheIntendedArrival(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := Workload{Name: "OpenLoop", Streams: 1, Items: 10, Stages: Trivial(4)}
		srv := slowServer{w: w, stall: func(it Item) time.Duration {
			if it.ID == 0 {
				return 10 * time.Millisecond
			}
			return 0
		}}
		load, err := pacer{sleep: time.Sleep}.run(srv, w, every(time.Millisecond, 10))
		require.NoError(t, err)
		for k, l := range load.Latencies {
			assert.Equal(t, 10*time.Millisecond-time.Duration(k)*time.Millisecond, l, "request %d", k)
		}
		assert.Equal(t, 10*time.Millisecond, load.Elapsed)
	})
}

// Arrivals spread over connections in turn: connection c gets arrivals c, c+n, c+2n, as items
// 0, 1, 2 of its stream, and a stall on one connection delays only the requests behind it.
func TestOpenLoopDealsArrivalsToTheConnectionsInTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := Workload{Name: "OpenLoop", Streams: 3, Items: 4, Stages: Trivial(4)}
		srv := slowServer{w: w, stall: func(it Item) time.Duration {
			if it.Stream == 1 && it.ID == 0 {
				return 9 * time.Millisecond
			}
			return 0
		}}
		load, err := pacer{sleep: time.Sleep}.run(srv, w, every(time.Millisecond, 12))
		require.NoError(t, err)
		for a, l := range load.Latencies {
			want := time.Duration(0)
			if a%3 == 1 && a <= 9 {
				want = 10*time.Millisecond - time.Duration(a)*time.Millisecond // arrival 1 stalls until 10 ms
			}
			assert.Equal(t, want, l, "arrival %d", a)
		}
	})
}

// A run whose server cannot keep up achieves less than its target and says so; one that keeps up
// reaches it.
func TestOpenLoopReportsARateItCannotReach(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := Workload{Name: "OpenLoop", Streams: 1, Items: 20, Stages: Trivial(4)}
		sched := every(100*time.Microsecond, 20) // 20 arrivals over 1.9 ms
		slow := slowServer{w: w, stall: func(Item) time.Duration { return time.Millisecond }}
		load, err := pacer{sleep: time.Sleep}.run(slow, w, sched)
		require.NoError(t, err)
		assert.InDelta(t, 19/1.9e-3, load.Target, 1)
		assert.InDelta(t, 1000, load.Achieved(), 1, "one call a millisecond")
		assert.False(t, load.Reached())

		fast := slowServer{w: w, stall: func(Item) time.Duration { return 0 }}
		load, err = pacer{sleep: time.Sleep}.run(fast, w, sched)
		require.NoError(t, err)
		assert.InDelta(t, load.Target, load.Achieved(), 1e-6)
		assert.True(t, load.Reached())
	})
}
