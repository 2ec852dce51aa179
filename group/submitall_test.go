package group_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/group"
)

// SubmitAll blocks while the window is full, as Submit does; when its context ends it returns
// how many items it accepted (the first ones, as many as the window held) with the context's
// cause in an *Error naming the group, and exactly those items get a result.
func TestSubmitAllStopsWhenItsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := group.New[string](double, group.Workers(2))
		defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
		g, err := r.Open(t.Context(), "g", group.Window(4), group.Ordered())
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		type ret struct {
			n   int
			err error
		}
		done := make(chan ret, 1)
		go func() {
			n, err := g.SubmitAll(ctx, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
			done <- ret{n, err}
		}()
		synctest.Wait() // the window is full: SubmitAll waits for room that no reader makes
		select {
		case got := <-done:
			t.Fatalf("SubmitAll returned %d, %v with the window full and its context live", got.n, got.err)
		default:
		}
		cancel()
		got := <-done
		assert.Equal(t, 4, got.n, "accepted: the window's worth")
		require.ErrorIs(t, got.err, context.Canceled)
		var ge *group.Error[string]
		require.ErrorAs(t, got.err, &ge)
		assert.Equal(t, "g", ge.Key)
		assert.Equal(t, "submit", ge.Op)
		g.Close()
		var outs []int
		for v, err := range g.Results() {
			require.NoError(t, err)
			outs = append(outs, v)
		}
		assert.Equal(t, []int{0, 2, 4, 6}, outs, "a result for each accepted item, and none for the others")
	})
}

// SubmitAll on a closed group accepts nothing and says why; SubmitAll of no items does nothing.
// (A nil context panics: TestNilContextPanics.)
func TestSubmitAllEdges(t *testing.T) {
	r := group.New[string](double)
	defer func() { require.NoError(t, r.Shutdown(t.Context())) }()
	g, err := r.Open(t.Context(), "g")
	require.NoError(t, err)

	n, err := g.SubmitAll(t.Context(), nil)
	assert.Zero(t, n)
	require.NoError(t, err, "no items: nothing to do")

	g.Close()
	n, err = g.SubmitAll(t.Context(), []int{1, 2, 3})
	assert.Zero(t, n)
	require.ErrorIs(t, err, group.ErrGroupClosed)
	var ge *group.Error[string]
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "g", ge.Key)
	for range g.Results() {
		t.Fatal("a closed group that accepted nothing has no results")
	}
}

// Property: items handed over in runs of any length, by one or more submitters at once, into a
// window of any size (some above the 256 items one lock places), each get exactly one result,
// their own; an ordered or serial group gives every submitter's items back in the order it
// submitted them.
func TestSubmitAllExactlyOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		workers := rapid.IntRange(1, 8).Draw(t, "workers")
		window := rapid.IntRange(1, 300).Draw(t, "window") // above 256 too: a run is at most 256 items a lock
		mode := rapid.SampledFrom([]string{"plain", "ordered", "serial"}).Draw(t, "mode")
		submitters := rapid.IntRange(1, 3).Draw(t, "submitters")
		runs := make([][]int, submitters) // each submitter's run lengths
		for s := range runs {
			runs[s] = rapid.SliceOfN(rapid.IntRange(0, 2*window+3), 0, 12).Draw(t, fmt.Sprintf("runs%d", s))
		}
		work := func(_ context.Context, v int) (int, error) {
			if v%5 == 0 {
				runtime.Gosched()
			}
			return -v, nil
		}
		r := group.New[int](work, group.Workers(workers))
		defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
		opts := []group.GroupOption{group.Window(window)}
		switch mode {
		case "ordered":
			opts = append(opts, group.Ordered())
		case "serial":
			opts = append(opts, group.Serial())
		}
		g, err := r.Open(context.Background(), 0, opts...)
		require.NoError(t, err)

		// Submitter s submits the items s*1e6, s*1e6+1, ...: disjoint, and in order.
		var wg sync.WaitGroup
		want := make([][]int, submitters)
		for s := range submitters {
			wg.Go(func() {
				next := s * 1_000_000
				for _, k := range runs[s] {
					run := make([]int, k)
					for i := range run {
						run[i] = next + 1 + i
					}
					n, err := g.SubmitAll(context.Background(), run)
					if err != nil || n != k {
						t.Errorf("submitter %d: SubmitAll of %d accepted %d, %v", s, k, n, err)
						return
					}
					want[s] = append(want[s], run...)
					next += k
				}
			})
		}
		go func() {
			wg.Wait()
			g.Close()
		}()
		got := make([][]int, submitters)
		seen := map[int]bool{}
		for v, err := range g.Results() {
			require.NoError(t, err)
			item := -v
			require.False(t, seen[item], "item %d has two results", item)
			seen[item] = true
			s := (item - 1) / 1_000_000
			require.True(t, s >= 0 && s < submitters, "result %d is of no submitter", v)
			got[s] = append(got[s], item)
		}
		for s := range submitters {
			if mode == "plain" {
				slices.Sort(got[s])
			}
			require.Equal(t, want[s], got[s], "submitter %d: one result an item, in its order where asked", s)
		}
		st := g.Stats()
		total := 0
		for s := range want {
			total += len(want[s])
		}
		assert.Equal(t, int64(total), st.Submitted, "Stats counts every item SubmitAll accepted")
	})
}
