package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// runOutcome is everything a run returns and does, to compare two runs.
type runOutcome struct {
	v     int
	state int
	err   string
	ran   []int
}

// A machine whose stages are a straight line of Steps takes the chain path (no dispatch); the
// same graph with an Observer takes the general one. Whatever each step does (go on, fail, panic,
// end the context) and whatever the step limit and the context, both give the same value, state
// and error and run the same steps.
func TestChainRunsLikeTheGeneralDispatch(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(t, "steps")
		acts := rapid.SliceOfN(rapid.SampledFrom([]string{"ok", "ok", "error", "panic", "cancel"}), n, n).Draw(t, "acts")
		limit := rapid.IntRange(0, n+1).Draw(t, "limit") // 0: no limit
		endedBefore := rapid.Bool().Draw(t, "ended before")

		run := func(observed bool) (runOutcome, bool) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			if endedBefore {
				cancel(errors.New("ended before"))
			}
			var o runOutcome
			b := fsm.NewBuilder[int, int]().StepLimit(limit)
			for s := range n {
				b.Step(s, func(_ context.Context, v int) (int, error) {
					o.ran = append(o.ran, s)
					switch acts[s] {
					case "error":
						return -v, fmt.Errorf("step %d failed", s)
					case "panic":
						panic(fmt.Sprintf("step %d panicked", s))
					case "cancel":
						cancel(fmt.Errorf("cancelled in step %d", s))
					}
					return v*10 + s + 1, nil
				}, s+1)
			}
			if observed {
				b.Observe(fsm.Observer[int]{Enter: func(context.Context, int) {}})
			}
			m, err := b.Terminal(n).Build(0)
			require.NoError(t, err)
			v, state, err := m.Run(ctx, 7)
			o.v, o.state = v, state
			if err != nil {
				o.err = err.Error()
			}
			return o, m.Chained()
		}
		chained, onChain := run(false)
		general, onGeneral := run(true)
		require.False(t, onGeneral, "an observed machine dispatches")
		require.Equal(t, limit == 0 || limit >= n, onChain, "a plain line of steps within the limit is a chain")
		assert.Equal(t, general, chained)
	})
}

// Graphs that are not a straight line of Steps keep the general dispatch: a Stage first, or
// anywhere further on the path (a Stage may branch).
func TestChainOnlyForStraightLines(t *testing.T) {
	step := func(_ context.Context, v int) (int, error) { return v, nil }
	stage := func(_ context.Context, v int) (int, string, error) { return v, "done", nil }
	for name, b := range map[string]*fsm.Builder[string, int]{
		"stage first": fsm.NewBuilder[string, int]().Stage("a", stage, "b", "done").Step("b", step, "done"),
		"stage later": fsm.NewBuilder[string, int]().Step("a", step, "b").Stage("b", stage, "a", "done"),
	} {
		m, err := b.Terminal("done").Build("a")
		require.NoError(t, err, name)
		assert.False(t, m.Chained(), name)
	}
	m, err := fsm.NewBuilder[string, int]().Step("a", step, "b").Step("b", step, "done").Terminal("done").Build("a")
	require.NoError(t, err)
	assert.True(t, m.Chained(), "a straight line of steps")
}
