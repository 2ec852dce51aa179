package pool_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/pool"
)

// Every input yields exactly one result, the sequential application of the work func, as a
// multiset, and in input order with Ordered.
func TestRunMatchesSequential(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 1500).Draw(t, "n")
		s := drawScript(t, n, false)
		opts, ordered := drawOptions(t)
		got := []int{}
		for v, err := range pool.Run(context.Background(), func(yield func(int) bool) {
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}, s.work, opts...) {
			require.NoError(t, err)
			got = append(got, v)
		}
		want := make([]int, n)
		for i := range want {
			want[i], _ = s.work(context.Background(), i)
		}
		if ordered {
			assert.Equal(t, want, got, "ordered results in input order")
		} else {
			assert.Equal(t, sorted(want), sorted(got), "one result per input")
		}
	})
}

// Errors and panics land on the item that caused them, and every other item still succeeds.
func TestRunFaultsLandOnTheirItem(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 600).Draw(t, "n")
		s := drawScript(t, n, true)
		opts, ordered := drawOptions(t)
		got := collect(pool.Run(context.Background(), func(yield func(int) bool) {
			for i := range n {
				if !yield(i) {
					return
				}
			}
		}, s.work, opts...))
		require.Len(t, got, n, "one result per item")
		seen := make([]bool, n)
		for k, o := range got {
			var pe *pool.PanicError
			switch {
			case errors.As(o.err, &pe):
				i := o.v // a failed item comes back as it went in
				assert.True(t, s.panics[i], "item %d panicked only if told to", i)
				assert.Contains(t, pe.Value, "panic on item")
				assert.Contains(t, string(pe.Stack), "script.work", "stack of the panicking func")
				seen[i] = true
			case o.err != nil:
				i := o.v
				assert.ErrorIs(t, o.err, errOdd)
				assert.True(t, s.fails[i], "item %d failed only if told to", i)
				seen[i] = true
			default:
				i := (o.v - 1) / 3
				assert.False(t, s.fails[i] || s.panics[i], "item %d should have failed", i)
				seen[i] = true
			}
			if ordered {
				assert.True(t, seen[k], "result %d is item %d's", k, k)
			}
		}
		assert.NotContains(t, seen, false, "every item has its result")
	})
}

func TestRunBadInputPanics(t *testing.T) {
	work := func(_ context.Context, v int) (int, error) { return v, nil }
	toString := func(_ context.Context, v int) (string, error) { return strconv.Itoa(v), nil }
	var nilCtx context.Context // a nil context, as a caller's variable would hold it
	seq2 := func(func(int, error) bool) {}
	tests := []struct {
		give string
		f    func()
		want string
	}{
		{"nil source", func() { pool.Run(context.Background(), nil, work) }, "pool: Run: nil source"},
		{"nil func", func() { pool.Run(context.Background(), neverEnding, nil) }, "pool: Run: nil work func"},
		{"nil channel", func() { pool.RunChan(context.Background(), nil, work) }, "pool: RunChan: nil source channel"},
		{"nil chan func", func() { pool.RunChan(context.Background(), make(chan int), nil) }, "pool: RunChan: nil work func"},
		{"Run nil context", func() { pool.Run(nilCtx, neverEnding, work) }, "pool: Run: nil context"},
		{"Map nil context", func() { pool.Map(nilCtx, neverEnding, toString) }, "pool: Map: nil context"},
		{"RunChan nil context", func() { pool.RunChan(nilCtx, make(chan int), work) }, "pool: RunChan: nil context"},
		{"RunSeq2 nil context", func() { pool.RunSeq2(nilCtx, seq2, work) }, "pool: RunSeq2: nil context"},
		{"Slice nil context", func() { pool.Slice(nilCtx, []int{1}, work) }, "pool: Slice: nil context"},
		{"RunSeq2 nil source", func() { pool.RunSeq2(context.Background(), nil, work) }, "pool: RunSeq2: nil source"},
		{"RunSeq2 nil func", func() { pool.RunSeq2(context.Background(), seq2, nil) }, "pool: RunSeq2: nil work func"},
		{"Slice nil func", func() { pool.Slice[int, int](context.Background(), []int{1}, nil) }, "pool: Slice: nil work func"},
		{"Map nil source", func() { pool.Map(context.Background(), nil, toString) }, "pool: Map: nil source"},
		{"zero workers", func() { pool.Workers(0) }, "pool: Workers(0): must be at least 1"},
		{"negative window", func() { pool.Window(-3) }, "pool: Window(-3): must be at least 1"},
		{"batch too big", func() { pool.MaxBatch(257) }, "pool: MaxBatch(257): must be from 1 to 256"},
		{"zero batch", func() { pool.MaxBatch(0) }, "pool: MaxBatch(0): must be from 1 to 256"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, tt.f)
		})
	}
}

// Repanic re-raises the work func's panic in the consumer's goroutine, with the original value and
// stack, after the run's goroutines have ended (goleak checks the latter at the end of the package).
func TestRunRepanic(t *testing.T) {
	work := func(_ context.Context, v int) (int, error) {
		if v == 7 {
			panic("seven")
		}
		return v, nil
	}
	defer func() {
		v := recover()
		pe, ok := v.(*pool.PanicError)
		require.True(t, ok, "re-raised value is the PanicError, got %T", v)
		assert.Equal(t, "seven", pe.Value)
		assert.True(t, strings.Contains(string(pe.Stack), "TestRunRepanic"), "stack of the worker that panicked")
	}()
	for range pool.Run(context.Background(), func(yield func(int) bool) {
		for i := range 100 {
			if !yield(i) {
				return
			}
		}
	}, work, pool.Repanic()) {
	}
	t.Fatal("the run did not re-raise the panic")
}
