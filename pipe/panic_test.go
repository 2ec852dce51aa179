package pipe_test

import (
	"context"
	"iter"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagecoach-go/stagecoach/pipe"
)

// place is a place where a pipeline runs user code: run builds a pipeline on p whose user func at
// that place calls fault on item 3, runs it on the calling goroutine and returns what the sink
// returns. part is the part the pipeline's error must name.
type place struct {
	part string
	run  func(p *pipe.Pipeline, fault func()) error
}

func faultAt3(fault func()) func(context.Context, int) (int, error) {
	return func(_ context.Context, v int) (int, error) {
		if v == 3 {
			fault()
		}
		return v, nil
	}
}

// places lists every kind of goroutine of a pipeline that runs user code, and the caller's own
// (sink funcs, loop bodies).
var places = map[string]place{
	"FromSeq": {"FromSeq #1", func(p *pipe.Pipeline, fault func()) error {
		return pipe.Drain(p, pipe.FromSeq(p, func(yield func(int) bool) {
			for i := 0; yield(i); i++ {
				if i == 3 {
					fault()
				}
			}
		}))
	}},
	"FromSeq2": {"FromSeq2 #1", func(p *pipe.Pipeline, fault func()) error {
		return pipe.Drain(p, pipe.FromSeq2(p, iter.Seq2[int, error](func(yield func(int, error) bool) {
			for i := 0; yield(i, nil); i++ {
				if i == 3 {
					fault()
				}
			}
		})))
	}},
	"Generate": {"Generate #1", func(p *pipe.Pipeline, fault func()) error {
		return pipe.Drain(p, pipe.Generate(p, func(_ context.Context, emit func(int) bool) error {
			for i := 0; emit(i); i++ {
				if i == 3 {
					fault()
				}
			}
			return nil
		}))
	}},
	"Map": {"Map #2", func(p *pipe.Pipeline, fault func()) error {
		return pipe.Drain(p, pipe.Map(p, pipe.FromSlice(p, ints(10)), faultAt3(fault), pipe.Workers(2)))
	}},
	"ordered Map": {"Map #2", func(p *pipe.Pipeline, fault func()) error {
		return pipe.Drain(p, pipe.Map(p, pipe.FromSlice(p, ints(10)), faultAt3(fault), pipe.Workers(3), pipe.Ordered()))
	}},
	"Filter": {"Filter #2", func(p *pipe.Pipeline, fault func()) error {
		keep := faultAt3(fault)
		return pipe.Drain(p, pipe.Filter(p, pipe.FromSlice(p, ints(10)), func(ctx context.Context, v int) (bool, error) {
			_, err := keep(ctx, v)
			return true, err
		}))
	}},
	"FilterMap": {"FilterMap #2", func(p *pipe.Pipeline, fault func()) error {
		f := faultAt3(fault)
		return pipe.Drain(p, pipe.FilterMap(p, pipe.FromSlice(p, ints(10)), func(ctx context.Context, v int) (int, bool, error) {
			v, err := f(ctx, v)
			return v, true, err
		}))
	}},
	"ordered FlatMap": {"FlatMap #2", func(p *pipe.Pipeline, fault func()) error {
		return pipe.Drain(p, pipe.FlatMap(p, pipe.FromSlice(p, ints(10)), func(_ context.Context, v int, emit func(int) bool) error {
			emit(v)
			if v == 3 {
				fault()
			}
			return nil
		}, pipe.Workers(2), pipe.Ordered()))
	}},
	"ForEach func": {"ForEach #2", func(p *pipe.Pipeline, fault func()) error {
		f := faultAt3(fault)
		return pipe.ForEach(p, pipe.FromSlice(p, ints(10)), func(ctx context.Context, v int) error {
			_, err := f(ctx, v)
			return err
		})
	}},
	"ForEach func on workers": {"ForEach #2", func(p *pipe.Pipeline, fault func()) error {
		f := faultAt3(fault)
		return pipe.ForEach(p, pipe.FromSlice(p, ints(10)), func(ctx context.Context, v int) error {
			_, err := f(ctx, v)
			return err
		}, pipe.Workers(3))
	}},
	"Any pred": {"Any #2", func(p *pipe.Pipeline, fault func()) error {
		f := faultAt3(fault)
		_, err := pipe.Any(p, pipe.FromSlice(p, ints(10)), func(ctx context.Context, v int) (bool, error) {
			_, err := f(ctx, v)
			return false, err
		})
		return err
	}},
	"Every pred on workers": {"Every #2", func(p *pipe.Pipeline, fault func()) error {
		f := faultAt3(fault)
		_, err := pipe.Every(p, pipe.FromSlice(p, ints(10)), func(ctx context.Context, v int) (bool, error) {
			_, err := f(ctx, v)
			return true, err
		}, pipe.Workers(2))
		return err
	}},
	"Reduce func": {"Reduce #2", func(p *pipe.Pipeline, fault func()) error {
		_, err := pipe.Reduce(p, pipe.FromSlice(p, ints(10)), 0, func(acc, v int) int {
			if v == 3 {
				fault()
			}
			return acc + v
		})
		return err
	}},
	"All loop body": {"All #2", func(p *pipe.Pipeline, fault func()) error {
		for v, err := range pipe.All(p, pipe.FromSlice(p, ints(10))) {
			if err != nil {
				return err
			}
			if v == 3 {
				fault()
			}
		}
		return nil
	}},
	"Values loop body": {"Values #2", func(p *pipe.Pipeline, fault func()) error {
		for v := range pipe.Values(p, pipe.FromSlice(p, ints(10))) {
			if v == 3 {
				fault()
			}
		}
		return p.Wait()
	}},
}

// outcome runs pl on a goroutine of its own with fault, and reports what the caller of the sink
// saw: the error returned, the value of a panic that reached it, or that the goroutine exited.
func outcome(p *pipe.Pipeline, pl place, fault func()) (panicked any, exited bool, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if panicked = recover(); panicked != nil {
				exited = false
			}
		}()
		exited = true // until run returns or panics
		err = pl.run(p, fault)
		exited = false
	}()
	<-done
	return panicked, exited, err
}

type boom struct{ n int }

// A panic in user code anywhere in a pipeline becomes the pipeline's error, a *PanicError with the
// value and the stack of the panicking func, wrapped with the part it happened in; nothing crashes
// and no goroutine is left. A panic in the caller's own loop body (All, Values) goes on panicking
// on the caller's goroutine, as in a plain loop, after the pipeline has ended.
func TestPanicAnywhereFailsThePipeline(t *testing.T) {
	for name, pl := range places {
		t.Run(name, func(t *testing.T) {
			p := pipe.New(context.Background())
			panicked, exited, err := outcome(p, pl, func() { panic(boom{7}) })
			assert.False(t, exited)
			loopBody := name == "All loop body" || name == "Values loop body"
			if loopBody {
				assert.Equal(t, boom{7}, panicked, "the loop body's panic reaches the caller")
				err = p.Wait()
			} else {
				assert.Nil(t, panicked, "no panic reaches the caller")
			}
			var se *pipe.StageError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, pl.part, se.Stage)
			var pe *pipe.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, boom{7}, pe.Value)
			assert.Contains(t, string(pe.Stack), "pipe_test.TestPanicAnywhereFailsThePipeline", "the stack of the panicking func")
			assert.Equal(t, "pipe: "+pl.part+": panic: {7}", err.Error(), "one line")
			assert.Equal(t, err, p.Wait())
			assert.NoError(t, goleak.Find())
		})
	}
}

// runtime.Goexit in user code anywhere in a pipeline fails it with ErrGoexit and hangs nothing.
// On a goroutine of the pipeline, the sink returns the error; on the caller's goroutine (a sink
// func, a loop body), the caller's goroutine exits, as Goexit means, after the pipeline's
// goroutines have ended.
func TestGoexitAnywhereFailsThePipeline(t *testing.T) {
	for name, pl := range places {
		t.Run(name, func(t *testing.T) {
			p := pipe.New(context.Background())
			panicked, exited, err := outcome(p, pl, runtime.Goexit)
			assert.Nil(t, panicked)
			onCaller := map[string]bool{"ForEach func": true, "Any pred": true, "Reduce func": true, "All loop body": true, "Values loop body": true}[name]
			assert.Equal(t, onCaller, exited, "only Goexit on the caller's goroutine ends it")
			if exited {
				assert.NoError(t, goleak.Find(), "the pipeline ended before the caller's goroutine did")
				err = p.Wait()
			}
			require.ErrorIs(t, err, pipe.ErrGoexit)
			var se *pipe.StageError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, pl.part, se.Stage)
			assert.Equal(t, "pipe: "+pl.part+": user func called runtime.Goexit", err.Error())
			assert.NoError(t, goleak.Find())
		})
	}
}

// The sequence of one All or Values call can be ranged over once; a second range panics.
func TestSecondRangePanics(t *testing.T) {
	p := pipe.New(context.Background())
	all := pipe.All(p, pipe.From(p, 1, 2))
	for range all {
	}
	assert.PanicsWithValue(t, "pipe: All: ranged over a second time; the sequence of one All call can be ranged over once", func() {
		for range all {
		}
	})
	q := pipe.New(context.Background())
	values := pipe.Values(q, pipe.From(q, 1, 2))
	for range values {
		break
	}
	assert.PanicsWithValue(t, "pipe: Values: ranged over a second time; the sequence of one Values call can be ranged over once", func() {
		for range values {
		}
	})
	require.NoError(t, q.Wait())
}
