package bench_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/bench"
)

// BenchmarkOpenLoop runs every design open-loop: Poisson arrivals over bench.OpenLoopConns
// connections at 25, 50, 75 and 90% of the capacity the design showed just before (see
// [bench.MeasureOpenLoop]).
func BenchmarkOpenLoop(b *testing.B) {
	for _, svc := range bench.OpenLoopServices() {
		for _, load := range bench.OpenLoopLoads() {
			b.Run(fmt.Sprintf("%s/load=%d", svc.Name, load), func(b *testing.B) {
				bench.MeasureOpenLoop(b, svc, load)
			})
		}
	}
}

// A schedule starts at 0, never goes back, is the same for the same seed, and its gaps average
// one over the rate (to within what 5,000 draws allow).
func TestScheduleIsAPoissonProcess(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5000).Draw(t, "arrivals")
		rate := rapid.Float64Range(10, 1e7).Draw(t, "rate")
		seed := rapid.Uint64().Draw(t, "seed")
		s := bench.Schedule(n, rate, seed)
		require.Len(t, s, n)
		assert.Zero(t, s[0])
		assert.True(t, slices.IsSorted(s))
		assert.Equal(t, s, bench.Schedule(n, rate, seed))
		if n == 5000 {
			mean := s[n-1].Seconds() / float64(n-1)
			assert.InEpsilon(t, 1/rate, mean, 0.06) // 4 standard errors of the mean of 5,000 exponential gaps
		}
	})
	assert.NotEqual(t, bench.Schedule(100, 1000, 1), bench.Schedule(100, 1000, 2))
	assert.Equal(t, make([]time.Duration, 5), bench.Schedule(5, math.Inf(1), 3), "an infinite rate: all at once")
	assert.PanicsWithValue(t, "bench: Schedule of 0 arrivals at 10 a second: need at least 1 and a positive rate",
		func() { bench.Schedule(0, 10, 1) })
	assert.PanicsWithValue(t, "bench: Schedule of 3 arrivals at NaN a second: need at least 1 and a positive rate",
		func() { bench.Schedule(3, math.NaN(), 1) })
}

// Every open-loop design gives every connection exactly its own results, at its capacity and on a
// Poisson schedule.
func TestOpenLoopServicesAreCorrect(t *testing.T) {
	for _, svc := range bench.OpenLoopServices() {
		t.Run(svc.Name, func(t *testing.T) {
			w := bench.Workload{Name: "OpenLoop", Streams: 8, Items: 25, Stages: bench.Trivial(4)}
			srv := svc.Start(w)
			capacity, err := bench.Capacity(srv, w)
			require.NoError(t, err)
			require.Positive(t, capacity)
			load, err := bench.OpenLoop(srv, w, bench.Schedule(w.Total(), capacity/4, 7))
			require.NoError(t, err)
			require.NoError(t, srv.Close())
			assert.Len(t, load.Latencies, w.Total())
			for i, l := range load.Latencies {
				require.Positive(t, l, "request %d", i)
			}
		})
	}
}
