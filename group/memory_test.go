package group_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

// heapAlloc returns the bytes of live heap objects after two collections: a sync.Pool's
// objects survive the first one (in its victim cache), and a router's pool of windows is a
// sync.Pool, so one collection would count in the windows of a router shut down before (an
// earlier run of the test, at -count or -cpu), and free them during the measurement.
func heapAlloc() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// item is a 64-byte item, the size the costs in the docs are quoted for.
type item [8]int64

// 100k groups open at once, first idle, then each with one item in flight: an idle group holds
// at most 1 KiB of heap (no window), and every result is delivered.
func TestHundredThousandOpenGroups(t *testing.T) {
	const n = 100_000
	work := func(_ context.Context, v item) (item, error) { v[1] = v[0] * 2; return v, nil }
	r := group.New[int](work, group.Workers(2))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	groups := make([]*group.Group[int, item], n)
	before := heapAlloc()
	for i := range groups {
		g, err := r.Open(context.Background(), i, group.Ordered())
		require.NoError(t, err)
		groups[i] = g
	}
	idle := float64(heapAlloc()-before) / n
	t.Logf("an open idle group holds %.0f B of heap", idle)
	assert.LessOrEqual(t, idle, 1024.0, "bytes of heap an open idle group holds")

	for i, g := range groups {
		require.NoError(t, g.Submit(context.Background(), item{int64(i)}))
	}
	busy := float64(heapAlloc()-before) / n
	t.Logf("an open group with one item in flight holds %.0f B of heap", busy)

	for i, g := range groups {
		g.Close()
		got := 0
		for v, err := range g.Results() {
			require.NoError(t, err)
			require.Equal(t, int64(2*i), v[1], "group %d's own result", i)
			got++
		}
		require.Equal(t, 1, got, "group %d", i)
	}
	assert.Zero(t, r.Len())
}

// Opening and closing a group allocates the group and nothing else when the group takes no
// options and its context can never end (it needs no hook on the context then); options cost
// one allocation more, and a context that can end its hook. The key is reused, so the router's
// maps never grow.
func TestOpenCloseAllocations(t *testing.T) {
	r := group.New[int](func(_ context.Context, v item) (item, error) { return v, nil }, group.Workers(1))
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	openClose := func(ctx context.Context, opts ...group.GroupOption) func() {
		return func() {
			g, err := r.Open(ctx, 1, opts...)
			require.NoError(t, err)
			g.Close()
		}
	}
	assert.Equal(t, 1.0, testing.AllocsPerRun(1000, openClose(context.Background())), "Background, no options")
	ordered := []group.GroupOption{group.Ordered()}
	assert.Equal(t, 2.0, testing.AllocsPerRun(1000, openClose(context.Background(), ordered...)), "Background, Ordered")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	assert.Greater(t, testing.AllocsPerRun(1000, openClose(ctx)), 1.0, "a context that can end is hooked")
}
