package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// scripted builds g with stages that choose their next state from choices, in turn, and record
// every transition they take; each stage adds 1 to the value. The choice [undeclared] picks a
// state the stage did not declare. With observe, the machine has an Observer (the run's other path).
// undeclared is the choice of an undeclared next state: a middle value, which rapid draws less
// often than the ends of the range.
const undeclared = 5

func scripted(g randomGraph, limit int, choices []int, observe bool) (*fsm.Machine[int, int], *[][2]int, error) {
	var path [][2]int
	k := 0
	b := fsm.NewBuilder[int, int]().StepLimit(limit)
	for s := range g.n {
		if g.terminal[s] {
			b.Terminal(s)
			continue
		}
		next := g.next[s]
		b.Stage(s, func(_ context.Context, v int) (int, int, error) {
			c := choices[k%len(choices)]
			k++
			to := g.n + 100 // declared by nobody
			if c != undeclared {
				to = next[c%len(next)]
			}
			path = append(path, [2]int{s, to})
			return v + 1, to, nil
		}, next...)
	}
	if observe {
		b.Observe(fsm.Observer[int]{Leave: func(context.Context, int, int, time.Duration, error) {}})
	}
	m, err := b.Build(g.start)
	return m, &path, err
}

// Runs take only declared transitions and end in a terminal state, or fail naming the state for
// an undeclared transition (returning the value the failing stage was called with) or the step
// limit. Every graph is valid by construction, so every check runs the machine; the outcomes are
// counted and logged.
func TestRunTakesDeclaredTransitions(t *testing.T) {
	outcomes := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		g := drawValidGraph(t)
		choices := rapid.SliceOfN(rapid.IntRange(0, 9), 1, 20).Draw(t, "choices")
		limit := rapid.IntRange(1, 12).Draw(t, "limit")
		m, path, err := scripted(g, limit, choices, rapid.Bool().Draw(t, "observed"))
		require.NoError(t, err, "a valid graph builds")
		v, state, err := m.Run(context.Background(), 0)
		require.NotEmpty(t, *path, "the start is a stage: at least one stage ran")
		for _, tr := range *path {
			if !slices.Contains(g.next[tr[0]], tr[1]) {
				outcomes["undeclared transition"]++
				require.ErrorIs(t, err, fsm.ErrTransition)
				assert.Contains(t, err.Error(), fmt.Sprintf("state %d: undeclared transition: returned next state %d", tr[0], tr[1]))
				assert.Equal(t, tr[0], state)
				assert.Equal(t, len(*path)-1, v, "the value the failing stage was called with")
				return
			}
		}
		assert.Equal(t, len(*path), v, "each stage ran once a step")
		if errors.Is(err, fsm.ErrStepLimit) {
			outcomes["step limit"]++
			assert.Len(t, *path, limit)
			assert.False(t, m.IsTerminal(state))
			assert.Equal(t, (*path)[len(*path)-1][1], state, "stopped before the stage it would run next")
			return
		}
		outcomes["terminal state"]++
		require.NoError(t, err)
		assert.True(t, m.IsTerminal(state), "ends in a terminal state")
		assert.Equal(t, (*path)[len(*path)-1][1], state)
	})
	t.Logf("runs checked: %v", outcomes)
	for _, o := range []string{"undeclared transition", "step limit", "terminal state"} {
		assert.Positive(t, outcomes[o], "some runs ended by %s", o)
	}
}

var errStage = errors.New("stage failed")

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }

// chain builds 0 -> 1 -> ... -> n (terminal), where stage at fails with err, or panics with p.
func chain(n, at int, err error, p any) *fsm.Machine[int, int] {
	b := fsm.NewBuilder[int, int]()
	for s := range n {
		b.Stage(s, func(_ context.Context, v int) (int, int, error) {
			if s == at && p != nil {
				panic(p)
			}
			if s == at && err != nil {
				return v, s, err
			}
			return v + 1, s + 1, nil
		}, s+1)
	}
	m, buildErr := b.Terminal(n).Build(0)
	if buildErr != nil {
		panic(buildErr)
	}
	return m
}

func TestRunWrapsStageErrors(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 10).Draw(t, "stages")
		at := rapid.IntRange(0, n-1).Draw(t, "failing")
		code := rapid.Int().Draw(t, "code")
		orig := fmt.Errorf("%w: %w", errStage, &codeError{code})
		v, state, err := chain(n, at, orig, nil).Run(context.Background(), 0)
		assert.Equal(t, at, state, "the run stops in the failing state")
		assert.Equal(t, at, v, "the value the failing stage returned")
		assert.ErrorIs(t, err, errStage)
		var ce *codeError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, code, ce.code)
		var se *fsm.StateError[int]
		require.ErrorAs(t, err, &se)
		assert.Equal(t, at, se.State)
	})
}

func TestRunCapturesPanics(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 10).Draw(t, "stages")
		at := rapid.IntRange(0, n-1).Draw(t, "panicking")
		value := rapid.String().Draw(t, "value")
		v, state, err := chain(n, at, nil, value).Run(context.Background(), 0)
		assert.Equal(t, at, state)
		assert.Equal(t, at, v, "the value as it was when the stage was called")
		var pe *fsm.PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, value, pe.Value)
		assert.Contains(t, string(pe.Stack), "fsm_test.chain", "the stack of the panicking stage")
	})
	// The goroutine that ran the machine survived: we are still here, and can run it again.
	_, _, err := chain(2, 1, nil, "again").Run(context.Background(), 0)
	assert.Error(t, err)
}

// Cancelling inside stage k stops the run before stage k+1.
func TestRunStopsBetweenStagesOnCancel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 10).Draw(t, "stages")
		k := rapid.IntRange(0, n-2).Draw(t, "cancelling")
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		cause := errors.New("shutting down")
		var ran []int
		b := fsm.NewBuilder[int, int]()
		for s := range n {
			b.Stage(s, func(_ context.Context, v int) (int, int, error) {
				ran = append(ran, s)
				if s == k {
					cancel(cause)
				}
				return v, s + 1, nil
			}, s+1)
		}
		m, err := b.Terminal(n).Build(0)
		require.NoError(t, err)
		_, state, err := m.Run(ctx, 0)
		assert.Equal(t, k+1, state, "stopped before entering the next stage")
		assert.ErrorIs(t, err, cause)
		assert.Equal(t, k+1, len(ran), "no stage ran after the cancel")
	})
}

func TestRunStepLimitStopsACycle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		limit := rapid.IntRange(1, 1000).Draw(t, "limit")
		steps := 0
		m, err := fsm.NewBuilder[string, int]().StepLimit(limit).
			Stage("spin", func(_ context.Context, v int) (int, string, error) { steps++; return v, "spin", nil }, "spin", "done").
			Terminal("done").Build("spin")
		require.NoError(t, err)
		_, state, err := m.Run(context.Background(), 0)
		assert.ErrorIs(t, err, fsm.ErrStepLimit)
		assert.Equal(t, "spin", state)
		assert.Equal(t, limit, steps)
	})
}

// One Machine serves many goroutines at once; run with -race.
func TestRunConcurrently(t *testing.T) {
	m := chain(6, -1, nil, nil)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 500 {
				v, state, err := m.Run(context.Background(), g*i)
				assert.NoError(t, err)
				assert.Equal(t, 6, state)
				assert.Equal(t, g*i+6, v)
			}
		})
	}
	wg.Wait()
}

func TestObserverSeesEveryStage(t *testing.T) {
	var entered []int
	var left []string
	b := fsm.NewBuilder[int, int]()
	for s := range 3 {
		b.Stage(s, func(_ context.Context, v int) (int, int, error) {
			if s == 2 {
				return v, s, errStage
			}
			return v, s + 1, nil
		}, s+1)
	}
	m, err := b.Terminal(3).Observe(fsm.Observer[int]{
		Enter: func(_ context.Context, s int) { entered = append(entered, s) },
		Leave: func(_ context.Context, s, next int, took time.Duration, err error) {
			left = append(left, fmt.Sprintf("%d->%d %v", s, next, err))
			assert.GreaterOrEqual(t, took, time.Duration(0))
		},
	}).Build(0)
	require.NoError(t, err)
	_, _, err = m.Run(context.Background(), 0)
	require.ErrorIs(t, err, errStage)
	assert.Equal(t, []int{0, 1, 2}, entered)
	assert.Equal(t, []string{"0->1 <nil>", "1->2 <nil>", "2->2 stage failed"}, left)
}

// Steps (plain funcs with a fixed next state) run like Stages: in order, with their errors and
// panics wrapped with their state, and seen by the observer.
func TestStepsRunLikeStages(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(t, "steps")
		at := rapid.IntRange(-1, n-1).Draw(t, "failing")
		fault := rapid.SampledFrom([]string{"error", "panic"}).Draw(t, "fault")
		observed := rapid.Bool().Draw(t, "observed")
		var seen []int
		b := fsm.NewBuilder[int, int]()
		for s := range n {
			b.Step(s, func(_ context.Context, v int) (int, error) {
				if s == at && fault == "panic" {
					panic("boom")
				}
				if s == at {
					return v, errStage
				}
				return v*10 + s, nil
			}, s+1)
		}
		if observed {
			b.Observe(fsm.Observer[int]{Enter: func(_ context.Context, s int) { seen = append(seen, s) }})
		}
		m, err := b.Terminal(n).Build(0)
		require.NoError(t, err)
		v, state, err := m.Run(context.Background(), 0)
		if at < 0 {
			require.NoError(t, err)
			want := 0
			for s := range n {
				want = want*10 + s
			}
			assert.Equal(t, want, v)
			assert.Equal(t, n, state)
		} else {
			assert.Equal(t, at, state)
			var se *fsm.StateError[int]
			require.ErrorAs(t, err, &se)
			assert.Equal(t, at, se.State)
			if fault == "panic" {
				var pe *fsm.PanicError
				assert.ErrorAs(t, err, &pe)
			} else {
				assert.ErrorIs(t, err, errStage)
			}
		}
		if observed {
			last := n - 1
			if at >= 0 {
				last = at
			}
			assert.Len(t, seen, last+1, "the observer saw every step that ran")
		}
	})
}
