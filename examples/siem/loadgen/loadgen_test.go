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
