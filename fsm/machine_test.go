package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
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

// phase is a state type with a String method, the shape stringer generates; stringCalls counts
// its calls.
type phase int

const (
	intake phase = iota
	check
	ship
	shipped
	refused
)

var stringCalls atomic.Int64

func (p phase) String() string {
	stringCalls.Add(1)
	names := [...]string{"intake", "check", "ship", "shipped", "refused"}
	if p < 0 || int(p) >= len(names) {
		return fmt.Sprintf("phase(%d)", int(p))
	}
	return names[p]
}

// Every error and rendering of the package names a state by its String method when the state
// type has one; a successful run never calls it.
func TestStatesPrintWithTheirString(t *testing.T) {
	pass := func(next phase) fsm.StageFunc[phase, int] {
		return func(_ context.Context, v int) (int, phase, error) { return v + 1, next, nil }
	}
	build := func() *fsm.Builder[phase, int] {
		return fsm.NewBuilder[phase, int]().
			Stage(intake, pass(check), check, refused).
			Stage(check, pass(ship), ship).
			Step(ship, func(_ context.Context, v int) (int, error) { return v, nil }, shipped).
			Terminal(shipped, refused)
	}
	m := fsm.Must(build().Build(intake))
	observed := fsm.Must(build().Observe(fsm.Observer[phase]{Enter: func(context.Context, phase) {}}).Build(intake))

	stringCalls.Store(0)
	for range 100 {
		_, state, err := m.Run(context.Background(), 0)
		require.NoError(t, err)
		require.True(t, state == shipped)
		_, err = observed.Do(context.Background(), 0)
		require.NoError(t, err)
	}
	assert.Zero(t, stringCalls.Load(), "String calls in 200 successful runs")

	ended, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("shutting down"))
	fail := func(next phase, err error, p any) *fsm.Machine[phase, int] {
		return fsm.Must(fsm.NewBuilder[phase, int]().StepLimit(3).
			Stage(intake, pass(check), check).
			Stage(check, func(_ context.Context, v int) (int, phase, error) {
				if p != nil {
					panic(p)
				}
				return v, next, err
			}, ship, intake).
			Stage(ship, pass(shipped), shipped).
			Terminal(shipped).Build(intake))
	}
	runErr := func(m *fsm.Machine[phase, int], ctx context.Context) string {
		_, _, err := m.Run(ctx, 0)
		require.Error(t, err)
		return err.Error()
	}
	_, unknown := fsm.NewBuilder[phase, int]().Stage(intake, pass(check), check).Terminal(shipped).Build(intake)
	_, noStart := fsm.NewBuilder[phase, int]().Stage(intake, pass(shipped), shipped).Terminal(shipped).Build(ship)
	_, twice := fsm.NewBuilder[phase, int]().Stage(intake, pass(shipped), shipped).Terminal(shipped, intake).Build(intake)
	tests := []struct {
		give string
		got  string
		want string
	}{
		{"stage error", runErr(fail(ship, errors.New("out of stock"), nil), context.Background()), "fsm: state check: out of stock"},
		{"undeclared", runErr(fail(refused, nil, nil), context.Background()),
			"fsm: state check: undeclared transition: returned next state refused, which it did not declare (declared: [ship intake])"},
		{"panic", runErr(fail(ship, nil, "boom"), context.Background()), "fsm: state check: panic: boom"},
		{"step limit", runErr(fail(intake, nil, nil), context.Background()), "fsm: state check: step limit reached: 3 stages run"},
		{"context ended", runErr(m, ended), "fsm: state intake: shutting down"},
		{"unknown state", unknown.Error(), "fsm: state check: next state has no stage and is not terminal (declared by intake)\n" +
			"fsm: state intake: no terminal state reachable from this stage"},
		{"no start", noStart.Error(), "fsm: state ship: start state has no stage"},
		{"duplicate", twice.Error(), "fsm: state intake: state registered twice (already registered as a stage)"},
		{"%+v", fmt.Sprintf("%+v", &fsm.StateError[phase]{State: check, Err: errStage}), "fsm: state check: stage failed"},
		{"Mermaid", m.Mermaid(), "stateDiagram-v2\n    [*] --> intake\n    intake --> check\n    intake --> refused\n    check --> ship\n" +
			"    ship --> shipped\n    shipped --> [*]\n    refused --> [*]\n"},
		{"DOT", m.DOT(), "digraph fsm {\n    rankdir=LR;\n    node [shape=box, style=rounded];\n    __start [shape=point, label=\"\"];\n" +
			"    \"shipped\" [shape=doublecircle, style=solid];\n    \"refused\" [shape=doublecircle, style=solid];\n    __start -> \"intake\";\n" +
			"    \"intake\" -> \"check\";\n    \"intake\" -> \"refused\";\n    \"check\" -> \"ship\";\n    \"ship\" -> \"shipped\";\n}\n"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.got, tt.give)
	}
	built := build()
	_ = fsm.Must(built.Build(intake))
	assert.PanicsWithValue(t, "fsm: Stage(check) after Build: a Builder is frozen once built", func() { built.Stage(check, pass(ship), ship) })
	assert.PanicsWithValue(t, "fsm: Step(ship): nil stage func", func() { fsm.NewBuilder[phase, int]().Step(ship, nil, shipped) })
	assert.PanicsWithValue(t, "fsm: Terminal([shipped refused]) after Build: a Builder is frozen once built", func() { built.Terminal(shipped, refused) })
}
