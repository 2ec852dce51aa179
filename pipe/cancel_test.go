package pipe_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/pipe"
)

// A FlatMap func that emits without end learns that the pipeline has ended from emit, ordered or
// not, and the stage ends: the number of outputs emitted stays bounded, however many the func
// would emit. (An ordered stage used to accept every output of an item into its slot.)
func TestFlatMapLearnsThePipelineEnded(t *testing.T) {
	for _, tt := range []struct {
		give    string
		opts    []pipe.Option
		ordered bool
	}{
		{"one worker", nil, true},
		{"unordered workers", []pipe.Option{pipe.Workers(2)}, false},
		{"ordered workers", []pipe.Option{pipe.Workers(2), pipe.Ordered()}, true},
		{"ordered, small window", []pipe.Option{pipe.Workers(4), pipe.Ordered(), pipe.Window(2), pipe.Buffer(1)}, true},
	} {
		t.Run(tt.give, func(t *testing.T) {
			const perItem = 100_000
			var emitted, refused atomic.Int64
			p := pipe.New(context.Background())
			flat := pipe.FlatMap(p, pipe.From(p, 0, 1, 2, 3), func(_ context.Context, v int, emit func(int) bool) error {
				for i := range perItem {
					if !emit(v*perItem + i) {
						refused.Add(1)
						return nil
					}
					emitted.Add(1)
				}
				return nil
			}, tt.opts...)
			n := 0
			for v := range pipe.Values(p, flat) {
				if tt.ordered {
					require.Equal(t, n, v, "in order")
				}
				if n++; n == 10 {
					break
				}
			}
			require.NoError(t, p.Wait(), "stopping is not an error")
			assert.Positive(t, refused.Load(), "a func still emitting was told the pipeline ended")
			// At most: what the consumer read, a full output channel, and per worker a slot of 64
			// held back and one being sent on.
			assert.Less(t, emitted.Load(), int64(10+64+4*2*64+8), "the outputs accepted after the end are bounded")
			assert.NoError(t, goleak.Find())
		})
	}
}

// emit reports false once the pipeline has ended, even when the output channel has room.
func TestEmitReportsFalseOnceEnded(t *testing.T) {
	for _, tt := range []struct {
		give  string
		build func(p *pipe.Pipeline, f func(ctx context.Context, emit func(int) bool)) <-chan int
	}{
		{"Generate", func(p *pipe.Pipeline, f func(context.Context, func(int) bool)) <-chan int {
			return pipe.Generate(p, func(ctx context.Context, emit func(int) bool) error { f(ctx, emit); return nil })
		}},
		{"FlatMap", func(p *pipe.Pipeline, f func(context.Context, func(int) bool)) <-chan int {
			return pipe.FlatMap(p, pipe.From(p, 1), func(ctx context.Context, _ int, emit func(int) bool) error { f(ctx, emit); return nil })
		}},
		{"ordered FlatMap", func(p *pipe.Pipeline, f func(context.Context, func(int) bool)) <-chan int {
			return pipe.FlatMap(p, pipe.From(p, 1), func(ctx context.Context, _ int, emit func(int) bool) error { f(ctx, emit); return nil },
				pipe.Workers(2), pipe.Ordered())
		}},
	} {
		t.Run(tt.give, func(t *testing.T) {
			for range 20 { // a select between a ready send and a closed Done picks either: repeat
				p := pipe.New(context.Background())
				started := make(chan struct{})
				got := make(chan bool, 1)
				out := tt.build(p, func(ctx context.Context, emit func(int) bool) {
					close(started)
					<-ctx.Done()
					got <- emit(1)
				})
				<-started
				p.Stop()
				assert.False(t, <-got, "emit after the end")
				require.NoError(t, p.Wait())
				_, ok := <-out
				assert.False(t, ok, "nothing was delivered after the end")
			}
		})
	}
}

// A parent context cancelled with a cause ends the pipeline with that cause, even when a stage
// func then returns ctx.Err() (context.Canceled): the cause was first, the rest followed from it.
func TestParentCauseIsTheOutcome(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts, _ := drawStageOptions(t, "map")
		at := rapid.IntRange(0, 50).Draw(t, "blocking item")
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		cause := errors.New("shutting down")
		p := pipe.New(ctx)
		blocked := make(chan struct{})
		src := pipe.Generate(p, func(_ context.Context, emit func(int) bool) error {
			for i := 0; emit(i); i++ {
			}
			return nil
		})
		out := pipe.Map(p, src, func(ctx context.Context, v int) (int, error) {
			if v == at {
				close(blocked)
				<-ctx.Done()
				return 0, ctx.Err()
			}
			return v, nil
		}, opts...)
		go func() {
			<-blocked
			cancel(cause)
		}()
		err := pipe.Drain(p, out)
		assert.Equal(t, cause, err, "the parent's cause, as it was given")
		assert.Equal(t, cause, p.Wait())
	})
}

// Breaking out of Values stops the pipeline, and a stage func that then returns ctx.Err() does
// not make it an error: Wait reports nil.
func TestStopIsNotAnError(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts, _ := drawStageOptions(t, "map")
		k := rapid.IntRange(1, 30).Draw(t, "items read")
		p := pipe.New(context.Background())
		blocked := make(chan struct{})
		out := pipe.Map(p, pipe.FromSlice(p, ints(k+1)), func(ctx context.Context, v int) (int, error) {
			if v == k {
				close(blocked)
				<-ctx.Done()
				return 0, ctx.Err()
			}
			return v, nil
		}, opts...)
		n := 0
		for range pipe.Values(p, out) {
			if n++; n == k {
				<-blocked
				break
			}
		}
		assert.Equal(t, k, n)
		assert.NoError(t, p.Wait())
	})
}

// Wait releases the pipeline's context from its parent once every stage has ended: a pipeline
// that ran to its end under a long-lived parent leaves nothing registered with it (its context
// is done), and its outcome is still nil, as is every later Wait's; an error stays the outcome.
func TestWaitReleasesTheContext(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 50).Draw(t, "items")
		fail := rapid.Bool().Draw(t, "fail")
		boom := errors.New("boom")
		p := pipe.New(t.Context()) // outlives the pipeline
		out := pipe.Map(p, pipe.FromSlice(p, ints(n)), func(_ context.Context, v int) (int, error) {
			if fail && v == n-1 {
				return 0, boom
			}
			return v, nil
		})
		err := pipe.Drain(p, out) // waits for the pipeline
		require.Error(t, p.Context().Err(), "the pipeline's context is released once Wait returns")
		if fail && n > 0 {
			assert.ErrorIs(t, err, boom)
			assert.ErrorIs(t, p.Wait(), boom, "the error stays the outcome")
			return
		}
		assert.NoError(t, err)
		assert.NoError(t, p.Wait(), "a second Wait reports the same")
	})
}

// The cause of a pipeline's context after a normal end is ErrFinished, and after a stop (Stop, or
// a break out of Values or All) ErrStopped, as a stage func still running sees it: both wrap
// context.Canceled, so errors.Is(context.Cause(ctx), context.Canceled) tells a shutdown from a
// failure; neither is the pipeline's error.
func TestEndCausesWrapCanceled(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts, _ := drawStageOptions(t, "map")
		n := rapid.IntRange(1, 40).Draw(t, "items")
		stop := n > 1 && rapid.Bool().Draw(t, "stop early")
		p := pipe.New(t.Context())
		entered, seen := make(chan struct{}), make(chan error, 1)
		out := pipe.Map(p, pipe.FromSlice(p, ints(n)), func(ctx context.Context, v int) (int, error) {
			if stop && v == n-1 {
				close(entered)
				<-ctx.Done()
				seen <- context.Cause(ctx)
			}
			return v, nil
		}, opts...)
		read := 0
		for range pipe.Values(p, out) {
			if read++; stop && read == n-1 {
				<-entered // the last item's func runs, and sees the stop
				break
			}
		}
		require.NoError(t, p.Wait(), "a stop or a normal end is not an error")
		cause := context.Cause(p.Context())
		assert.ErrorIs(t, cause, context.Canceled)
		if stop {
			assert.Equal(t, pipe.ErrStopped, cause)
			assert.Equal(t, pipe.ErrStopped, <-seen, "the cause a running stage func sees")
			return
		}
		assert.Equal(t, n, read)
		assert.Equal(t, pipe.ErrFinished, cause)
	})
}
