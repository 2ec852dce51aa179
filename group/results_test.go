package group_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

// readyGroup returns a closed group of the router whose n results, of the items 0 to n-1, are
// all finished and waiting to be read, so that a reader takes them all at once.
func readyGroup(t *testing.T, r *group.Router[string, int], n int, opts ...group.GroupOption) *group.Group[string, int] {
	t.Helper()
	g, err := r.Open(t.Context(), "g", opts...)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, g.Submit(t.Context(), i))
	}
	g.Close()
	<-g.Done() // every item has run: its result waits in the window
	return g
}

// leaveRange ranges over g's results and leaves the range at its first result the way how says:
// break, a panic of the loop body that the caller recovers, or runtime.Goexit. It reports the one
// result the body saw.
func leaveRange(g *group.Group[string, int], how string) (seen int) {
	done := make(chan struct{})
	go func() { // its own goroutine, so that the body may call runtime.Goexit
		defer close(done)
		defer func() { _ = recover() }()
		for range g.Results() {
			if seen++; seen == 1 {
				switch how {
				case "panic":
					panic("the loop body fails")
				case "goexit":
					runtime.Goexit()
				}
				break
			}
		}
	}()
	<-done
	return seen
}

// Every way out of a range over a group's results hands the results the reader had taken and not
// yet yielded back to the group: the next range gets every one of them, and the window counts
// them until they are read.
func TestLeavingTheRangeKeepsTheUnreadResults(t *testing.T) {
	const n = 10
	for _, how := range []string{"break", "panic", "goexit"} {
		t.Run(how, func(t *testing.T) {
			r := newRouter(t, double)
			g := readyGroup(t, r, n, group.Ordered())
			require.Equal(t, 1, leaveRange(g, how), "the body saw one result")
			var rest []int
			for v, err := range g.Results() {
				require.NoError(t, err)
				rest = append(rest, v/2)
			}
			assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, rest, "the results after the one read")
		})
	}
}

// A Repanic group's re-raised panic, recovered by the caller, is that result's delivery: the
// results taken with it go to the next range.
func TestRecoveredRepanicKeepsTheUnreadResults(t *testing.T) {
	const n = 10
	work := func(_ context.Context, v int) (int, error) {
		if v == 0 {
			panic("item 0 fails")
		}
		return 2 * v, nil
	}
	r := newRouter(t, work)
	g := readyGroup(t, r, n, group.Ordered(), group.Repanic())
	func() {
		defer func() {
			_, ok := recover().(*group.PanicError)
			require.True(t, ok, "the work func's panic is re-raised")
		}()
		for range g.Results() {
			t.Fatal("the first result re-raises its panic before it is yielded")
		}
	}()
	var rest []int
	for v, err := range g.Results() {
		require.NoError(t, err)
		rest = append(rest, v/2)
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, rest, "the results after the one that panicked")
}
