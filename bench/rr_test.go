package bench_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/bench"
)

// BenchmarkRequestResponse runs C clients (1, 64, 1024) on one server of each design, each client
// making one round trip at a time (see [bench.MeasureRoundTrips]).
func BenchmarkRequestResponse(b *testing.B) {
	for _, svc := range bench.Services() {
		for _, c := range []int{1, 64, 1024} {
			b.Run(fmt.Sprintf("%s/clients=%d", svc.Name, c), func(b *testing.B) {
				bench.MeasureRoundTrips(b, svc, bench.RequestResponse(c, testing.Short()))
			})
		}
	}
}

// Every service gives every client exactly its own results, one round trip at a time, with one
// client and with many.
func TestServicesAreCorrect(t *testing.T) {
	for _, svc := range bench.Services() {
		for _, c := range []int{1, 16} {
			t.Run(fmt.Sprintf("%s/clients=%d", svc.Name, c), func(t *testing.T) {
				w := bench.RequestResponse(c, true)
				srv := svc.Start(w)
				trips, err := bench.RoundTrips(srv, w)
				require.NoError(t, err)
				require.NoError(t, srv.Close())
				assert.Len(t, trips.Latencies, c*w.Items)
				for i, l := range trips.Latencies {
					require.Positive(t, l, "round trip %d", i)
				}
			})
		}
	}
}

// A service whose stage fails reports it to the client, and the client's run fails.
func TestRoundTripsReportAFailingStage(t *testing.T) {
	for _, svc := range bench.Services() {
		t.Run(svc.Name, func(t *testing.T) {
			w := bench.RequestResponse(2, true)
			boom := errors.New("boom")
			last := w.Stages[len(w.Stages)-1]
			w.Stages[len(w.Stages)-1] = func(ctx context.Context, it bench.Item) (bench.Item, error) {
				if it.Stream == 1 && it.ID == 3 {
					return it, boom
				}
				return last(ctx, it)
			}
			srv := svc.Start(w)
			_, err := bench.RoundTrips(srv, w)
			assert.ErrorIs(t, err, boom)
			_ = srv.Close() // the promise pipeline ends with boom too; the others with nil
		})
	}
}

// Percentile picks a value of the slice that at least p of the values do not exceed, and the
// smallest such value.
func TestPercentileIsTheNearestRank(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		raw := rapid.SliceOfN(rapid.Int64Range(0, 1000), 1, 200).Draw(t, "values")
		p := rapid.Float64Range(0.001, 1).Draw(t, "p")
		vs := make([]time.Duration, len(raw))
		for i, v := range raw {
			vs[i] = time.Duration(v)
		}
		slices.Sort(vs)
		got := bench.Percentile(vs, p)
		atMost := func(x time.Duration) int {
			n := 0
			for _, v := range vs {
				if v <= x {
					n++
				}
			}
			return n
		}
		if !slices.Contains(vs, got) {
			t.Fatalf("%v is not one of the values", got)
		}
		if float64(atMost(got)) < p*float64(len(vs))-1e-9 {
			t.Fatalf("only %d of %d values are at most %v, want at least p = %v of them", atMost(got), len(vs), got, p)
		}
		if i, _ := slices.BinarySearch(vs, got); i > 0 && float64(atMost(vs[i-1])) >= p*float64(len(vs))-1e-9 {
			t.Fatalf("%v is not the smallest: %v already has p = %v of the values at or below it", got, vs[i-1], p)
		}
	})
}

func TestPercentilePanicsOnBadInput(t *testing.T) {
	assert.PanicsWithValue(t, "bench: Percentile of 0 values at p = 0.5: need values and 0 < p <= 1",
		func() { bench.Percentile(nil, 0.5) })
	assert.PanicsWithValue(t, "bench: Percentile of 1 values at p = 0: need values and 0 < p <= 1",
		func() { bench.Percentile([]time.Duration{1}, 0) })
}
