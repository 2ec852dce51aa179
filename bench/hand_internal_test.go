package bench

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The pipeline by hand ends promptly when its parent context ends while a stage is blocked, and
// returns the parent's cause; every goroutine has ended when wait returns.
func TestHandEndsWhenItsParentEndsWhileAStageIsBlocked(t *testing.T) {
	parent, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stop")
	h := newHand[int](parent)
	blocked := make(chan struct{})
	ch := h.source(func(yield func(int) bool) {
		for i := 0; ; i++ {
			if !yield(i) {
				return
			}
		}
	})
	ch = h.stage(ch, func(ctx context.Context, v int) (int, error) {
		if v == 10 {
			close(blocked)
			<-ctx.Done() // a stage blocked on something that only the end of the line releases
		}
		return v, nil
	}, 1)
	done := make(chan error, 1)
	go func() {
		for range ch {
		}
		done <- h.wait()
	}()
	<-blocked
	cancel(stop)
	assert.ErrorIs(t, <-done, stop)
}

// Whatever stage fails first, and at whatever item, the line returns that first error, calls no
// stage after wait returns, and leaves no goroutine behind (goleak checks the package).
func TestStressHandFirstErrorWins(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stages := rapid.IntRange(1, 6).Draw(t, "stages")
		workers := rapid.IntRange(1, 4).Draw(t, "workers")
		items := rapid.IntRange(1, 500).Draw(t, "items")
		badStage := rapid.IntRange(0, stages-1).Draw(t, "bad stage")
		badItem := rapid.IntRange(0, items-1).Draw(t, "bad item")
		readAll := rapid.Bool().Draw(t, "sink reads all")
		boom := errors.New("boom")
		var ended atomic.Bool
		var late atomic.Int64
		h := newHand[int](context.Background())
		ch := h.source(func(yield func(int) bool) {
			for i := range items {
				if !yield(i) {
					return
				}
			}
		})
		for k := range stages {
			ch = h.stage(ch, func(_ context.Context, v int) (int, error) {
				if ended.Load() {
					late.Add(1)
				}
				if k == badStage && v == badItem {
					return v, boom
				}
				runtime.Gosched()
				return v, nil
			}, workers)
		}
		n := 0
		for range ch {
			n++
			if !readAll && n == 3 {
				break // the sink stops early: the line must end without being drained
			}
		}
		if !readAll {
			h.cancel()
		}
		err := h.wait()
		ended.Store(true)
		if readAll {
			require.ErrorIs(t, err, boom)
			require.Less(t, n, items, "the failed item never reaches the sink")
		} else if err != nil {
			require.ErrorIs(t, err, boom)
		}
		require.Zero(t, late.Load(), "a stage called after wait returned")
	})
}

// A stage that panics or calls runtime.Goexit ends the line with an error, and the process
// survives.
func TestHandTurnsPanicsAndGoexitIntoErrors(t *testing.T) {
	for name, bad := range map[string]func(){"panic": func() { panic("kaput") }, "goexit": runtime.Goexit} {
		t.Run(name, func(t *testing.T) {
			w := StageCount(3, true)
			last := w.Stages[1]
			w.Stages[1] = func(ctx context.Context, it Item) (Item, error) {
				if it.ID == 42 {
					bad()
				}
				return last(ctx, it)
			}
			err := Hand(w)
			require.Error(t, err)
			if name == "panic" {
				assert.ErrorContains(t, err, "a stage panicked: kaput")
				assert.ErrorContains(t, err, "hand_internal_test.go", "the stack")
			} else {
				assert.ErrorContains(t, err, "runtime.Goexit")
			}
		})
	}
}

// Every item of the source reaches the sink exactly once, through every stage once and in order,
// whatever the item count, the stage count and the goroutines a stage.
func TestStressHandExactlyOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		items := rapid.IntRange(0, 2000).Draw(t, "items")
		stages := rapid.IntRange(1, 8).Draw(t, "stages")
		workers := rapid.IntRange(1, 6).Draw(t, "workers")
		h := newHand[[2]int](context.Background())
		ch := h.source(func(yield func([2]int) bool) {
			for i := range items {
				if !yield([2]int{i, 0}) {
					return
				}
			}
		})
		for k := range stages {
			ch = h.stage(ch, func(_ context.Context, v [2]int) ([2]int, error) {
				if v[1] != k {
					return v, errors.New("stages out of order")
				}
				v[1]++
				return v, nil
			}, workers)
		}
		seen := make([]int, items)
		for v := range ch {
			require.Equal(t, stages, v[1], "item %d went through %d stages", v[0], v[1])
			seen[v[0]]++
		}
		require.NoError(t, h.wait())
		for i, n := range seen {
			require.Equal(t, 1, n, "item %d arrived %d times", i, n)
		}
	})
}
