package pipe_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/pipe"
)

// endless is a source that never ends by itself: a sink that returns must have stopped it.
func endless(p *pipe.Pipeline, values []int) <-chan int {
	return pipe.Generate(p, func(_ context.Context, emit func(int) bool) error {
		for i := 0; ; i++ {
			if !emit(values[i%len(values)]) {
				return nil
			}
		}
	})
}

// First gives the first item through a stage of one worker and whether there was one, and ends
// an endless pipeline: it stops it as soon as it has the item.
func TestFirstStopsAtTheFirstItem(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := rapid.SliceOfN(rapid.IntRange(-50, 50), 0, 30).Draw(t, "in")
		forever := len(in) > 0 && rapid.Bool().Draw(t, "endless source")
		p := pipe.New(t.Context())
		src := pipe.FromSlice(p, in)
		if forever {
			src = endless(p, in)
		}
		doubled := pipe.Map(p, src, func(_ context.Context, v int) (int, error) { return 2 * v, nil })
		v, ok, err := pipe.First(p, doubled)
		require.NoError(t, err)
		assert.Equal(t, len(in) > 0, ok, "found")
		if len(in) > 0 {
			assert.Equal(t, 2*in[0], v)
		}
		assert.ErrorIs(t, context.Cause(p.Context()), context.Canceled)
	})
}

// Any and Every give what slices.ContainsFunc gives on the input, with any number of workers;
// on an endless source that has the deciding item, they stop the pipeline there.
func TestAnyEveryMatchTheModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := rapid.SliceOfN(rapid.IntRange(0, 100), 0, 60).Draw(t, "in")
		bound := rapid.IntRange(0, 101).Draw(t, "bound")
		workers := rapid.IntRange(1, 4).Draw(t, "workers")
		every := rapid.Bool().Draw(t, "every")
		high := func(v int) bool { return v >= bound }
		var want bool
		if every {
			want = !slices.ContainsFunc(in, high)
		} else {
			want = slices.ContainsFunc(in, high)
		}
		// An endless source ends only if the answer is found: Any finding true, Every finding false.
		forever := len(in) > 0 && want != every && rapid.Bool().Draw(t, "endless source")
		p := pipe.New(t.Context())
		src := pipe.FromSlice(p, in)
		if forever {
			src = endless(p, in)
		}
		var got bool
		var err error
		if every {
			got, err = pipe.Every(p, src, func(_ context.Context, v int) (bool, error) { return !high(v), nil }, pipe.Workers(workers))
		} else {
			got, err = pipe.Any(p, src, func(_ context.Context, v int) (bool, error) { return high(v), nil }, pipe.Workers(workers))
		}
		require.NoError(t, err)
		assert.Equal(t, want, got, "every=%v bound=%d", every, bound)
	})
}

// An error of Any's or Every's pred fails the pipeline, named after the part: false and the error.
func TestAnyEveryPredError(t *testing.T) {
	boom := errors.New("boom")
	pred := func(_ context.Context, v int) (bool, error) {
		if v == 3 {
			return false, boom
		}
		return v > 100, nil // never decides: the error comes first
	}
	for _, tt := range []struct {
		give string
		run  func(p *pipe.Pipeline, in <-chan int) (bool, error)
		want string
	}{
		{"Any", func(p *pipe.Pipeline, in <-chan int) (bool, error) { return pipe.Any(p, in, pred) }, "pipe: Any #2: boom"},
		{"Every", func(p *pipe.Pipeline, in <-chan int) (bool, error) {
			return pipe.Every(p, in, func(ctx context.Context, v int) (bool, error) { ok, err := pred(ctx, v); return !ok, err })
		}, "pipe: Every #2: boom"},
		{"Any named, 3 workers", func(p *pipe.Pipeline, in <-chan int) (bool, error) {
			return pipe.Any(p, in, pred, pipe.Workers(3), pipe.Name("probe"))
		}, "pipe: probe (Any #2): boom"},
	} {
		t.Run(tt.give, func(t *testing.T) {
			p := pipe.New(context.Background())
			got, err := tt.run(p, pipe.FromSlice(p, ints(10)))
			assert.False(t, got)
			require.ErrorIs(t, err, boom)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

// ForEach with Workers(n) calls fn once for every item, on n goroutines at once.
func TestForEachWorkersExactlyOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 300).Draw(t, "items")
		workers := rapid.IntRange(1, 6).Draw(t, "workers")
		var mu sync.Mutex
		seen := make([]int, n)
		p := pipe.New(t.Context())
		err := pipe.ForEach(p, pipe.FromSlice(p, ints(n)), func(_ context.Context, v int) error {
			mu.Lock()
			seen[v]++
			mu.Unlock()
			return nil
		}, pipe.Workers(workers))
		require.NoError(t, err)
		for i, k := range seen {
			assert.Equal(t, 1, k, "calls for item %d", i)
		}
	})
}

// A pipeline that fails before its first item reaches First, Any or Every gives their zero answer
// and the error.
func TestSearchesReturnTheFailure(t *testing.T) {
	boom := errors.New("boom")
	failing := func(p *pipe.Pipeline) <-chan int {
		return pipe.Map(p, pipe.From(p, 1, 2, 3), func(context.Context, int) (int, error) { return 0, boom })
	}
	t.Run("First", func(t *testing.T) {
		p := pipe.New(context.Background())
		v, ok, err := pipe.First(p, failing(p))
		assert.Equal(t, 0, v)
		assert.False(t, ok)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("Any", func(t *testing.T) {
		p := pipe.New(context.Background())
		got, err := pipe.Any(p, failing(p), func(context.Context, int) (bool, error) { return true, nil })
		assert.False(t, got)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("Every", func(t *testing.T) {
		p := pipe.New(context.Background())
		got, err := pipe.Every(p, failing(p), func(context.Context, int) (bool, error) { return true, nil })
		assert.False(t, got, "not true for every item: the run failed")
		assert.ErrorIs(t, err, boom)
	})
}
