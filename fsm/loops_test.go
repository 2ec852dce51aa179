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

// Run has two loops: one for a machine without an Observer, the hot path, and one that calls the
// hooks around each stage. On the same line of stages, each a Stage or a Step, whatever each does
// (go on, fail, panic, end the context, return an undeclared next state), whatever the step limit
// and whatever the context (one that can never end, a cancellable one, one ended before the run),
// both give the same value, state and error and run the same stages.
func TestRunLoopsAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(t, "stages")
		acts := rapid.SliceOfN(rapid.SampledFrom([]string{"ok", "ok", "error", "panic", "cancel", "undeclared"}), n, n).Draw(t, "acts")
		steps := rapid.SliceOfN(rapid.Bool(), n, n).Draw(t, "registered with Step")
		limit := rapid.IntRange(0, n+1).Draw(t, "limit") // 0: no limit
		ctxKind := rapid.SampledFrom([]string{"background", "cancellable", "ended before"}).Draw(t, "context")

		run := func(observed bool) runOutcome {
			ctx, cancel := context.Background(), context.CancelCauseFunc(func(error) {})
			if ctxKind != "background" {
				var stop context.CancelCauseFunc
				ctx, stop = context.WithCancelCause(ctx)
				defer stop(nil)
				cancel = stop
			}
			if ctxKind == "ended before" {
				cancel(errors.New("ended before"))
			}
			var o runOutcome
			body := func(s, v int) (int, int, error) {
				o.ran = append(o.ran, s)
				switch acts[s] {
				case "error":
					return -v, s, fmt.Errorf("stage %d failed", s)
				case "panic":
					panic(fmt.Sprintf("stage %d panicked", s))
				case "cancel":
					cancel(fmt.Errorf("cancelled in stage %d", s))
				case "undeclared":
					return v + 1, n + 1, nil
				}
				return v*10 + s + 1, s + 1, nil
			}
			b := fsm.NewBuilder[int, int]().StepLimit(limit)
			for s := range n {
				if steps[s] {
					b.Step(s, func(_ context.Context, v int) (int, error) { v, _, err := body(s, v); return v, err }, s+1)
				} else {
					b.Stage(s, func(_ context.Context, v int) (int, int, error) { return body(s, v) }, s+1)
				}
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
			return o
		}
		assert.Equal(t, run(true), run(false))
	})
}
