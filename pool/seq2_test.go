package pool_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/pool"
)

// errSource is the error the test sources yield for the positions they are told to fail.
var errSource = errors.New("source failed")

// failingSource yields 0 to n-1, each with errSource (and the value -i) where bad says so.
func failingSource(n int, bad map[int]bool) func(func(int, error) bool) {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(position(i, bad[i])) {
				return
			}
		}
	}
}

// position is what failingSource yields at position i.
func position(i int, bad bool) (int, error) {
	if bad {
		return -i, fmt.Errorf("position %d: %w", i, errSource)
	}
	return i, nil
}

// A source error is its position's result (the value the source yielded with it), in its
// place with Ordered; every other position gets the work func's result, and the run goes on.
func TestRunSeq2SourceErrorIsItsPositionsResult(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 1500).Draw(t, "n")
		bad := map[int]bool{}
		for i := range n {
			bad[i] = rapid.IntRange(0, 9).Draw(t, fmt.Sprintf("bad[%d]", i)) == 0
		}
		opts, ordered := drawOptions(t)
		triple := func(_ context.Context, v int) (int, error) { return 3 * v, nil }
		seen := make([]int, n)
		k := 0
		for v, err := range pool.RunSeq2(t.Context(), failingSource(n, bad), triple, opts...) {
			i := v / 3
			if err != nil {
				i = -v
				require.ErrorIs(t, err, errSource)
				assert.Contains(t, err.Error(), fmt.Sprintf("position %d:", i), "the error of its own position")
			}
			require.Equal(t, bad[i], err != nil, "position %d", i)
			if ordered {
				assert.Equal(t, k, i, "result %d is position %d's", k, k)
			}
			seen[i]++
			k++
		}
		for i, c := range seen {
			assert.Equal(t, 1, c, "position %d's results", i)
		}
	})
}

// With FailFast, a source error ends the run: the reader stops at it, and it is the last result.
// With one worker, the results are the items before it, then it.
func TestRunSeq2FailFast(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 2000).Draw(t, "n")
		e := rapid.IntRange(0, n-1).Draw(t, "e")
		read := 0
		src := func(yield func(int, error) bool) {
			for i := range n {
				read++
				if !yield(position(i, i == e)) {
					return
				}
			}
		}
		got := collect(pool.RunSeq2(t.Context(), src, identity, pool.FailFast(), pool.Workers(1)))
		require.Len(t, got, e+1, "the items before the error, then the error")
		for i, o := range got[:e] {
			assert.Equal(t, outcome{v: i}, o)
		}
		assert.ErrorIs(t, got[e].err, errSource)
		assert.Equal(t, -e, got[e].v, "the error comes with the value the source yielded")
		assert.Equal(t, e+1, read, "the source is read no further than the error")
	})
}

// A source error keeps its place once the context has ended: an item read before the end, not
// run, gets the cause, but a source error stays that position's result.
func TestRunSeq2SourceErrorOutlivesTheCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	src := func(yield func(int, error) bool) {
		if !yield(position(0, true)) {
			return
		}
		cancel()
		yield(position(1, false))
	}
	got := collect(pool.RunSeq2(ctx, src, identity, pool.Ordered()))
	require.Len(t, got, 3, "two positions and the cause")
	assert.ErrorIs(t, got[0].err, errSource, "the source's error, whether it was skipped or not")
	assert.Equal(t, outcome{1, context.Canceled}, got[1], "read after the end: not run")
	assert.Equal(t, outcome{0, context.Canceled}, got[2], "the run's last word")
}

// Every position of a failing source comes back exactly once, whatever the configuration: its
// result or its source error, and a fail-fast run ends with its first error, once.
func TestStressRunSeq2ExactlyOnce(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 8))
	for run := range *stressRuns / 3 {
		c := drawStress(rng)
		bad := map[int]bool{}
		for range rng.IntN(4) {
			bad[rng.IntN(c.n)] = true
		}
		seen := make([]int, c.n)
		errs, next := 0, 0
		for v, err := range pool.RunSeq2(c.parent(t), failingSource(c.n, bad), double, c.options()...) {
			i := v / 2
			if err != nil {
				errs++
				require.ErrorIs(t, err, errSource, "seed %d run %d %+v", seed, run, c)
				i = -v
				require.True(t, bad[i], "seed %d run %d %+v: position %d failed", seed, run, c, i)
			} else {
				require.False(t, bad[i], "seed %d run %d %+v: position %d did not fail", seed, run, c, i)
			}
			seen[i]++
			if c.ordered && !c.failFast {
				require.Equal(t, next, i, "seed %d run %d %+v: out of order", seed, run, c)
				next++
			}
		}
		for i, k := range seen {
			if c.failFast && len(bad) > 0 {
				require.LessOrEqual(t, k, 1, "seed %d run %d %+v: position %d came back %d times", seed, run, c, i, k)
			} else {
				require.Equal(t, 1, k, "seed %d run %d %+v: position %d came back %d times", seed, run, c, i, k)
			}
		}
		if c.failFast && len(bad) > 0 {
			require.Equal(t, 1, errs, "seed %d run %d %+v: the run ends with one error", seed, run, c)
		} else {
			require.Equal(t, len(bad), errs, "seed %d run %d %+v: every source error", seed, run, c)
		}
	}
}
