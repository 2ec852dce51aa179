package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// A context that has already ended starts nothing: Run returns at once in the start state, with
// the item as given and the context's cause wrapped in a StateError.
func TestRunWithEndedContextRunsNoStage(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 6).Draw(t, "stages")
		steps := rapid.Bool().Draw(t, "registered with Step")
		observed := rapid.Bool().Draw(t, "observed")
		ran := 0
		b := fsm.NewBuilder[int, int]()
		for s := range n {
			if steps {
				b.Step(s, func(_ context.Context, v int) (int, error) { ran++; return v + 1, nil }, s+1)
			} else {
				b.Stage(s, func(_ context.Context, v int) (int, int, error) { ran++; return v + 1, s + 1, nil }, s+1)
			}
		}
		if observed {
			b.Observe(fsm.Observer[int]{Enter: func(context.Context, int) { ran++ }})
		}
		m, err := b.Terminal(n).Build(0)
		require.NoError(t, err)
		ctx, cancel := context.WithCancelCause(context.Background())
		cause := errors.New("shutting down")
		cancel(cause)
		v, state, err := m.Run(ctx, 42)
		assert.Equal(t, 0, ran, "no stage ran")
		assert.Equal(t, 42, v, "the item as given")
		assert.Equal(t, 0, state, "the start state")
		require.ErrorIs(t, err, cause)
		var se *fsm.StateError[int]
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 0, se.State)
		assert.Equal(t, "fsm: state 0: shutting down", err.Error())
	})
}

// A zero Machine or a nil *Machine panics naming the misuse, not deep inside.
func TestUnbuiltMachinePanics(t *testing.T) {
	var zero fsm.Machine[string, int]
	var nilm *fsm.Machine[string, int]
	tests := []struct {
		give string
		f    func()
		want string
	}{
		{"zero Run", func() { _, _, _ = zero.Run(context.Background(), 1) }, "fsm: Run on a Machine not built with Builder.Build"},
		{"zero Do", func() { _, _ = zero.Do(context.Background(), 1) }, "fsm: Run on a Machine not built with Builder.Build"},
		{"zero Start", func() { _ = zero.Start() }, "fsm: Start on a Machine not built with Builder.Build"},
		{"zero Mermaid", func() { _ = zero.Mermaid() }, "fsm: Mermaid on a Machine not built with Builder.Build"},
		{"zero DOT", func() { _ = zero.DOT() }, "fsm: DOT on a Machine not built with Builder.Build"},
		{"nil Run", func() { _, _, _ = nilm.Run(context.Background(), 1) }, "fsm: Run on a nil *Machine (did Build return an error?)"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, tt.f)
		})
	}
}

// A nil context panics at the call, naming it, whatever the machine: with or without an
// Observer, Stages or Steps; no stage runs.
func TestNilContextPanics(t *testing.T) {
	ran := 0
	step := func(_ context.Context, v int) (int, error) { ran++; return v, nil }
	plain, err := fsm.NewBuilder[string, int]().Step("a", step, "end").Terminal("end").Build("a")
	require.NoError(t, err)
	observed, err := fsm.NewBuilder[string, int]().Step("a", step, "end").Terminal("end").
		Observe(fsm.Observer[string]{Enter: func(context.Context, string) {}}).Build("a")
	require.NoError(t, err)
	var nilCtx context.Context
	tests := []struct {
		give string
		f    func()
		want string
	}{
		{"Run", func() { _, _, _ = plain.Run(nilCtx, 1) }, "fsm: Run(nil, v): nil context (use context.Background() or a caller's ctx)"},
		{"Do", func() { _, _ = plain.Do(nilCtx, 1) }, "fsm: Do(nil, v): nil context (use context.Background() or a caller's ctx)"},
		{"observed Run", func() { _, _, _ = observed.Run(nilCtx, 1) }, "fsm: Run(nil, v): nil context (use context.Background() or a caller's ctx)"},
		{"observed Do", func() { _, _ = observed.Do(nilCtx, 1) }, "fsm: Do(nil, v): nil context (use context.Background() or a caller's ctx)"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, tt.f)
		})
	}
	assert.Zero(t, ran, "no stage ran")
}

// A stage that calls runtime.Goexit ends the calling goroutine (the caller's business, as without
// the machine): Run does not return, the observer's Leave gets ErrGoexit, and the machine, which
// keeps no run state, serves the next run as before.
func TestGoexitInAStageLeavesTheMachineUsable(t *testing.T) {
	var left []string
	m, err := fsm.NewBuilder[string, int]().
		Step("a", func(_ context.Context, v int) (int, error) { return v + 1, nil }, "b").
		Step("b", func(_ context.Context, v int) (int, error) {
			if v < 0 {
				runtime.Goexit()
			}
			return v * 2, nil
		}, "end").
		Terminal("end").
		Observe(fsm.Observer[string]{Leave: func(_ context.Context, s, _ string, _ time.Duration, err error) {
			left = append(left, fmt.Sprintf("%s %v", s, err))
		}}).
		Build("a")
	require.NoError(t, err)
	returned := make(chan bool)
	go func() {
		ok := false
		defer func() { returned <- ok }()
		_, _, _ = m.Run(context.Background(), -5)
		ok = true
	}()
	assert.False(t, <-returned, "Goexit ended the goroutine: Run did not return")
	assert.Equal(t, []string{"a <nil>", "b user func called runtime.Goexit"}, left)
	v, state, err := m.Run(context.Background(), 3)
	require.NoError(t, err)
	assert.Equal(t, "end", state)
	assert.Equal(t, 8, v)
}

// A run of trivial stages on a value item allocates nothing, with a background or a cancellable
// context, registered as Stages or Steps.
func TestRunAllocatesNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := fsm.NewBuilder[int, item]()
	for s := range 4 {
		steps.Step(s, plainStage(uint64(s)), s+1)
	}
	stepMachine, err := steps.Terminal(4).Build(0)
	require.NoError(t, err)
	for _, tt := range []struct {
		give string
		m    *fsm.Machine[int, item]
		ctx  context.Context
	}{
		{"stages", fourStages(t), context.Background()},
		{"stages, cancellable context", fourStages(t), ctx},
		{"steps", stepMachine, context.Background()},
	} {
		t.Run(tt.give, func(t *testing.T) {
			it := item{id: 1}
			var err error
			allocs := testing.AllocsPerRun(1000, func() {
				it, _, err = tt.m.Run(tt.ctx, it)
			})
			require.NoError(t, err)
			assert.NotZero(t, it.val, "the stages ran")
			assert.Zero(t, allocs, "allocations a run")
		})
	}
}
