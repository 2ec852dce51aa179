package loadgen_test

import (
	"context"
	"math"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/examples/siem/loadgen"
	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// Percentile is the nearest rank: an element of the data, with at least ceil(p·n) elements at
// or below it and fewer than that strictly below it.
func TestPercentileIsTheNearestRank(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ns := rapid.SliceOfN(rapid.Int64Range(0, 1e9), 1, 200).Draw(t, "durations")
		d := make([]time.Duration, len(ns))
		for i, n := range ns {
			d[i] = time.Duration(n)
		}
		slices.Sort(d)
		p := rapid.Float64Range(0, 1).Draw(t, "p")
		got := loadgen.Percentile(d, p)
		require.Contains(t, d, got)
		atOrBelow, below := 0, 0
		for _, x := range d {
			if x <= got {
				atOrBelow++
			}
			if x < got {
				below++
			}
		}
		rank := max(1, int(math.Ceil(p*float64(len(d))))) // the rank asked for, at least the first
		assert.GreaterOrEqual(t, atOrBelow, rank)
		assert.Less(t, below, rank)
	})
	assert.Equal(t, time.Duration(0), loadgen.Percentile(nil, 0.5))
	assert.PanicsWithValue(t, "loadgen: percentile 1.5 outside [0, 1]", func() { loadgen.Percentile(nil, 1.5) })
}

func serve(t *testing.T, design string) (url, key, db string) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "siem.db")
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, service.Config{DB: db, Design: design})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return "http://" + ln.Addr().String(), svc.DemoKey(), db
}

func TestRunThenVerify(t *testing.T) {
	for _, design := range []string{service.DesignGroup, service.DesignPipe} {
		t.Run(design, func(t *testing.T) {
			url, key, db := serve(t, design)
			rep, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, Key: key, Events: 305, Clients: 8, Batch: 10})
			require.NoError(t, err)
			assert.Equal(t, 305, rep.Accepted, rep.FirstError)
			assert.Equal(t, 31, rep.Requests)
			assert.Zero(t, rep.Errors)
			assert.Len(t, rep.Acked, 305)
			assert.Positive(t, rep.EventsPerSec)
			assert.LessOrEqual(t, rep.P50, rep.P99)

			v, err := loadgen.Verify(context.Background(), db, rep.Prefix, rep.Acked)
			require.NoError(t, err)
			assert.Equal(t, loadgen.Verification{Acked: 305}, v)
			assert.True(t, v.ExactlyOnce())

			// A ref that was acknowledged but is not stored is found missing, and a stored one
			// left out of the acknowledgements is found unacknowledged.
			v, err = loadgen.Verify(context.Background(), db, rep.Prefix, append(rep.Acked[1:], rep.Prefix+"nope"))
			require.NoError(t, err)
			assert.Equal(t, loadgen.Verification{Acked: 305, Missing: 1, Unacked: 1}, v)
			assert.False(t, v.ExactlyOnce())
		})
	}
}

func TestRunCountsFailedRequests(t *testing.T) {
	url, _, _ := serve(t, service.DesignGroup)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, Key: "wrong", Events: 20, Clients: 2, Batch: 5})
	require.NoError(t, err)
	assert.Equal(t, 4, rep.Errors)
	assert.Zero(t, rep.Accepted)
	assert.Equal(t, "status 401: missing or invalid API key", rep.FirstError)

	_, err = loadgen.Run(context.Background(), loadgen.Config{URL: url})
	assert.EqualError(t, err, "loadgen: URL and Key are required")
}

// Open loop against both designs: every scheduled request is sent and answered, every event
// accepted is stored exactly once, and the report's latencies are there if and only if the
// rate was reached (whether it is depends on the machine: not asserted).
func TestRunOpenThenVerify(t *testing.T) {
	for _, design := range []string{service.DesignGroup, service.DesignPipe} {
		t.Run(design, func(t *testing.T) {
			url, key, db := serve(t, design)
			rep, err := loadgen.RunOpen(context.Background(), loadgen.Config{URL: url, Key: key, Clients: 4, Batch: 5,
				Rate: 100, Duration: 300 * time.Millisecond, Arrivals: loadgen.Constant})
			require.NoError(t, err)
			assert.Equal(t, 30, rep.Scheduled)
			assert.Equal(t, 150, rep.Events)
			assert.Equal(t, 150, rep.Accepted, rep.FirstError)
			assert.Equal(t, 30, rep.Requests)
			assert.Zero(t, rep.Errors)
			assert.Zero(t, rep.Unsent)
			assert.InDelta(t, 100, rep.Offered, 1e-9)
			assert.Positive(t, rep.Achieved)
			if rep.Reached {
				assert.Positive(t, rep.P50)
				assert.LessOrEqual(t, rep.P50, rep.P99)
				assert.LessOrEqual(t, rep.P99, rep.P999)
			} else {
				assert.Zero(t, rep.P50+rep.P99+rep.P999)
			}

			v, err := loadgen.Verify(context.Background(), db, rep.Prefix, rep.Acked)
			require.NoError(t, err)
			assert.Equal(t, loadgen.Verification{Acked: 150}, v)
		})
	}
}

func TestRunOpenRefusesBadConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  loadgen.Config
		want string
	}{
		{loadgen.Config{URL: "http://127.0.0.1:1", Key: "k"}, "loadgen: open loop at rate 0 for 0s: need a positive finite rate"},
		{loadgen.Config{URL: "http://127.0.0.1:1", Key: "k", Rate: 10, Duration: -time.Second}, "loadgen: open loop at rate 10 for -1s: need a positive finite rate"},
		{loadgen.Config{URL: "http://127.0.0.1:1", Key: "k", Rate: 10, Arrivals: "bursty"}, `loadgen: arrivals "bursty", want "poisson" or "constant"`},
		{loadgen.Config{URL: "http://127.0.0.1:1", Key: "k", Rate: 0.5, Duration: time.Second, Arrivals: loadgen.Constant, Seed: 1}, ""},
		{loadgen.Config{Rate: 10}, "loadgen: URL and Key are required"},
	} {
		rep, err := loadgen.RunOpen(context.Background(), c.cfg)
		if c.want == "" { // nothing listens: one request, failed, counted
			require.NoError(t, err)
			assert.Equal(t, 1, rep.Errors)
			assert.False(t, rep.Reached)
			continue
		}
		assert.EqualError(t, err, c.want)
	}
}
