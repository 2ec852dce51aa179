package pipe_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/pipe"
)

// dawdle yields the processor n times: a stage delay that needs no clock.
func dawdle(n int) {
	for range n {
		runtime.Gosched()
	}
}

func drawStageOptions(t *rapid.T, name string) ([]pipe.Option, bool) {
	opts := []pipe.Option{
		pipe.Workers(rapid.IntRange(1, 6).Draw(t, name+" workers")),
		pipe.Buffer(rapid.IntRange(1, 8).Draw(t, name+" buffer")),
	}
	ordered := rapid.Bool().Draw(t, name+" ordered")
	if ordered {
		opts = append(opts, pipe.Ordered())
	}
	return opts, ordered
}

// Map, Filter, FilterMap and FlatMap give what applying their funcs in sequence gives: the same
// multiset, and the same order when every stage is ordered.
func TestStagesMatchSequential(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := rapid.SliceOfN(rapid.IntRange(-50, 50), 0, 200).Draw(t, "in")
		delays := rapid.SliceOfN(rapid.IntRange(0, 3), 1, 10).Draw(t, "delays")
		delay := func(v int) { dawdle(delays[(v%len(delays)+len(delays))%len(delays)]) }
		o1, ord1 := drawStageOptions(t, "map")
		o2, ord2 := drawStageOptions(t, "filter")
		o3, ord3 := drawStageOptions(t, "flatmap")
		o4, ord4 := drawStageOptions(t, "filtermap")

		p := pipe.New(context.Background())
		doubled := pipe.Map(p, pipe.FromSlice(p, in), func(_ context.Context, v int) (int, error) { delay(v); return 2 * v, nil }, o1...)
		positive := pipe.Filter(p, doubled, func(_ context.Context, v int) (bool, error) { delay(v); return v > 0, nil }, o2...)
		twice := pipe.FlatMap(p, positive, func(_ context.Context, v int, emit func(int) bool) error {
			delay(v)
			_ = emit(v) && emit(v+1)
			return nil
		}, o3...)
		small := pipe.FilterMap(p, twice, func(_ context.Context, v int) (string, bool, error) {
			delay(v)
			return fmt.Sprint(v), v < 60, nil
		}, o4...)
		got, err := pipe.Collect(p, small)
		require.NoError(t, err)

		var want []string
		for _, v := range in {
			if v = 2 * v; v > 0 {
				for _, w := range []int{v, v + 1} {
					if w < 60 {
						want = append(want, fmt.Sprint(w))
					}
				}
			}
		}
		if ord1 && ord2 && ord3 && ord4 {
			assert.Equal(t, want, got)
		} else {
			slices.Sort(want)
			slices.Sort(got)
			assert.Equal(t, want, got)
		}
	})
}

// A sink that stops after k items leaves no goroutine behind, even though the source never ends.
func TestEarlyStopLeavesNothingBehind(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(0, 500).Draw(t, "k")
		opts, _ := drawStageOptions(t, "map")
		p := pipe.New(context.Background())
		endless := pipe.Generate(p, func(_ context.Context, emit func(int) bool) error {
			for i := 0; emit(i); i++ {
			}
			return nil
		})
		sq := pipe.Map(p, endless, func(_ context.Context, v int) (int, error) { return v * v, nil }, opts...)
		n := 0
		for _, err := range pipe.All(p, sq) {
			require.NoError(t, err)
			if n == k {
				break
			}
			n++
		}
		assert.Equal(t, k, n)
		assert.NoError(t, goleak.Find())
	})
}

// Cancelling the context mid-stream ends every stage, and the sink reports the cause.
func TestCancelEndsEveryStage(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(1, 300).Draw(t, "cancel after")
		opts, _ := drawStageOptions(t, "map")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p := pipe.New(ctx)
		never := make(chan int) // a source that never ends nor closes
		merged := pipe.Merge(p, never, pipe.Generate(p, func(_ context.Context, emit func(int) bool) error {
			for i := 0; emit(i); i++ {
			}
			return nil
		}))
		out := pipe.Map(p, merged, func(_ context.Context, v int) (int, error) { return v, nil }, opts...)
		n := 0
		err := pipe.ForEach(p, out, func(context.Context, int) error {
			if n++; n == k {
				cancel()
			}
			return nil
		})
		assert.ErrorIs(t, err, context.Canceled)
		assert.NoError(t, goleak.Find())
	})
}

var errStage = errors.New("stage failed")

// Every stage error reaches the sink as the pipeline's error: the first one, and it stops every
// stage.
func TestStageErrorsReachTheSink(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 300).Draw(t, "items")
		bad := rapid.IntRange(0, n-1).Draw(t, "bad item")
		where := rapid.SampledFrom([]string{"map", "filter", "flatmap", "sink", "panic"}).Draw(t, "failing stage")
		named := rapid.Bool().Draw(t, "named")
		opts, _ := drawStageOptions(t, "stage")
		name := func(n string) []pipe.Option {
			if named {
				return append(opts, pipe.Name(n))
			}
			return opts
		}
		fail := func(stage string, v int) error {
			if stage == where && v == bad {
				return fmt.Errorf("%s on %d: %w", stage, v, errStage)
			}
			return nil
		}
		p := pipe.New(context.Background())
		src := pipe.FromSlice(p, ints(n))
		mapped := pipe.Map(p, src, func(_ context.Context, v int) (int, error) {
			if where == "panic" && v == bad {
				panic(errStage)
			}
			return v, fail("map", v)
		}, name("mapper")...)
		kept := pipe.Filter(p, mapped, func(_ context.Context, v int) (bool, error) { return true, fail("filter", v) }, name("keeper")...)
		flat := pipe.FlatMap(p, kept, func(_ context.Context, v int, emit func(int) bool) error {
			emit(v)
			return fail("flatmap", v)
		}, name("flattener")...)
		err := pipe.ForEach(p, flat, func(_ context.Context, v int) error { return fail("sink", v) })
		require.ErrorIs(t, err, errStage)
		stage := map[string]string{"map": "Map #2", "panic": "Map #2", "filter": "Filter #3", "flatmap": "FlatMap #4", "sink": "ForEach #5"}[where]
		if named && where != "sink" {
			stage = map[string]string{"map": "mapper", "panic": "mapper", "filter": "keeper", "flatmap": "flattener"}[where] + " (" + stage + ")"
		}
		var se *pipe.StageError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, stage, se.Stage, "the error names the stage")
		if where == "panic" {
			var pe *pipe.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, string(pe.Stack), "pipe_test")
			assert.Equal(t, "pipe: "+stage+": panic: stage failed", err.Error())
		} else {
			assert.Equal(t, fmt.Sprintf("pipe: %s: %s on %d: stage failed", stage, where, bad), err.Error())
		}
		assert.NoError(t, goleak.Find(), "the error stopped every stage")
	})
}

func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// nilContext is the misuse of passing no context, hidden from the linters that catch it.
var nilContext context.Context

func TestBadInputPanics(t *testing.T) {
	p := pipe.New(context.Background())
	defer p.Stop()
	in := make(chan int)
	tests := []struct {
		give string
		f    func()
		want string
	}{
		{"nil context", func() { pipe.New(nilContext) }, "pipe: New(nil): nil context (use context.Background() or a caller's ctx)"},
		{"nil map func", func() { pipe.Map[int, int](p, in, nil) }, "pipe: Map: nil func"},
		{"nil filter func", func() { pipe.Filter[int](p, in, nil) }, "pipe: Filter: nil func"},
		{"nil flatmap func", func() { pipe.FlatMap[int, int](p, in, nil) }, "pipe: FlatMap: nil func"},
		{"nil input", func() { pipe.Map(p, nil, func(_ context.Context, v int) (int, error) { return v, nil }) }, "pipe: Map: nil input channel of int"},
		{"nil input of a sink", func() { _ = pipe.Drain[string](p, nil) }, "pipe: Drain: nil input channel of string"},
		{"nil input of First", func() { _, _, _ = pipe.First[int](p, nil) }, "pipe: First: nil input channel of int"},
		{"nil input of Merge", func() { pipe.Merge(p, in, nil) }, "pipe: Merge: nil input channel of int"},
		{"nil pipeline", func() { pipe.From[int](nil, 1) }, "pipe: From: nil *Pipeline (make one with pipe.New)"},
		{"nil pipeline of a stage", func() { pipe.Map[int, int](nil, in, func(_ context.Context, v int) (int, error) { return v, nil }) }, "pipe: Map: nil *Pipeline (make one with pipe.New)"},
		{"nil foreach func", func() { _ = pipe.ForEach[int](p, in, nil) }, "pipe: ForEach: nil func"},
		{"nil any func", func() { _, _ = pipe.Any[int](p, in, nil) }, "pipe: Any: nil func"},
		{"nil every func", func() { _, _ = pipe.Every[int](p, in, nil) }, "pipe: Every: nil func"},
		{"zero workers", func() { pipe.Workers(0) }, "pipe: Workers(0): must be at least 1"},
		{"zero buffer", func() { pipe.Buffer(0) }, "pipe: Buffer(0): must be from 1 to 65536"},
		{"huge buffer", func() { pipe.Buffer(math.MaxInt) }, fmt.Sprintf("pipe: Buffer(%d): must be from 1 to 65536", math.MaxInt)},
		{"zero window", func() { pipe.Window(0) }, "pipe: Window(0): must be from 1 to 65536"},
		{"huge window", func() { pipe.Window(1<<16 + 1) }, "pipe: Window(65537): must be from 1 to 65536"},
		{"empty name", func() { pipe.Name("") }, `pipe: Name(""): must not be empty`},
		{"tee of none", func() { pipe.Tee(p, in, 0) }, "pipe: Tee(..., n=0): must be at least 1"},
		{"batch of none", func() { pipe.Batch(p, in, 0, 0) }, "pipe: Batch(..., size=0, ...): must be at least 1"},
		{"batch waiting less than nothing", func() { pipe.Batch(p, in, 2, -time.Second) }, "pipe: Batch(..., maxWait=-1s): must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, tt.f)
		})
	}
}

// A Reduce that ends with an error returns the fold of the items it received before the end, with
// the error: the failing stage waits until the fold holds every item before the failing one.
func TestReduceReturnsThePartialResult(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 200).Draw(t, "items")
		bad := rapid.IntRange(0, n-1).Draw(t, "failing item")
		boom := errors.New("boom")
		folded := make(chan struct{})
		if bad == 0 {
			close(folded)
		}
		p := pipe.New(t.Context())
		checked := pipe.Map(p, pipe.FromSlice(p, ints(n)), func(_ context.Context, v int) (int, error) {
			if v == bad {
				<-folded
				return 0, boom
			}
			return v, nil
		})
		got, err := pipe.Reduce(p, checked, []int(nil), func(acc []int, v int) []int {
			acc = append(acc, v)
			if len(acc) == bad {
				close(folded)
			}
			return acc
		})
		require.ErrorIs(t, err, boom)
		assert.Equal(t, ints(bad), append([]int{}, got...), "the items before the failing one")
	})
}
