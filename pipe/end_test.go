package pipe_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/pipe"
)

// endCase is one way a part with a user func can be built, for the test of calls after the end.
// build wires the part to in and runs the pipeline to its end on the calling goroutine, returning
// its outcome; fn is the part's user func, called once an item.
type endCase struct {
	kind    string
	workers int
	sink    bool
	build   func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error) error
}

func endCases() []endCase {
	stage := func(kind string, workers int, ordered bool, build func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error, opts []pipe.Option) <-chan int) endCase {
		opts := []pipe.Option{pipe.Workers(workers)}
		if ordered {
			opts = append(opts, pipe.Ordered())
			kind += " ordered"
		}
		return endCase{kind: fmt.Sprintf("%s x%d", kind, workers), workers: workers,
			build: func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error) error {
				return pipe.Drain(p, build(p, in, fn, opts))
			}}
	}
	mapStage := func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error, opts []pipe.Option) <-chan int {
		return pipe.Map(p, in, func(ctx context.Context, v int) (int, error) { return v, fn(ctx, v) }, opts...)
	}
	filterStage := func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error, opts []pipe.Option) <-chan int {
		return pipe.Filter(p, in, func(ctx context.Context, v int) (bool, error) { return true, fn(ctx, v) }, opts...)
	}
	flatStage := func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error, opts []pipe.Option) <-chan int {
		return pipe.FlatMap(p, in, func(ctx context.Context, v int, emit func(int) bool) error {
			err := fn(ctx, v)
			emit(v)
			return err
		}, opts...)
	}
	cases := []endCase{
		stage("Map", 1, false, mapStage),
		stage("Map", 3, false, mapStage),
		stage("Map", 3, true, mapStage),
		stage("Filter", 1, false, filterStage),
		stage("FlatMap", 2, true, flatStage),
		{kind: "ForEach", workers: 1, sink: true, build: func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error) error {
			return pipe.ForEach(p, in, fn)
		}},
		{kind: "ForEach x3", workers: 3, sink: true, build: func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error) error {
			return pipe.ForEach(p, in, fn, pipe.Workers(3))
		}},
		{kind: "Any x2", workers: 2, sink: true, build: func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error) error {
			_, err := pipe.Any(p, in, func(ctx context.Context, v int) (bool, error) { return false, fn(ctx, v) }, pipe.Workers(2))
			return err
		}},
		{kind: "Every", workers: 1, sink: true, build: func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error) error {
			_, err := pipe.Every(p, in, func(ctx context.Context, v int) (bool, error) { return true, fn(ctx, v) })
			return err
		}},
		{kind: "Values loop body", workers: 1, sink: true, build: func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error) error {
			for v := range pipe.Values(p, in) {
				if err := fn(p.Context(), v); err != nil {
					return err // the break stops the pipeline: the loop body's error is its own
				}
			}
			return p.Wait()
		}},
		{kind: "All loop body", workers: 1, sink: true, build: func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error) error {
			for v, err := range pipe.All(p, in) {
				if err != nil {
					return err
				}
				if err := fn(p.Context(), v); err != nil {
					return err
				}
			}
			return nil
		}},
		{kind: "Reduce", workers: 1, sink: true, build: func(p *pipe.Pipeline, in <-chan int, fn func(context.Context, int) error) error {
			var failed error
			_, err := pipe.Reduce(p, in, 0, func(acc, v int) int {
				if failed == nil {
					failed = fn(p.Context(), v)
				}
				if failed != nil {
					panic(failed) // Reduce's fn has no error: a panic fails the pipeline
				}
				return acc + v
			})
			return err
		}},
	}
	return cases
}

// The ways a pipeline ends while a part's funcs are busy, and whether the end comes from the
// part's own func (the last of its busy calls returns it, or calls Stop).
var endTriggers = []struct {
	name string
	own  bool
}{
	{"Stop", false}, {"parent cancelled", false}, {"another part fails", false},
	{"own error", true}, {"own Stop", true},
}

// After the end of a pipeline is decided, no user func of a stage or a sink is called again,
// though items wait in its input: every worker of the part is held in its func until the end
// (each call waits for the context to end, and the trigger comes only once every worker is
// inside), so any call past the first `workers` calls came after the end. Random parts, ends and
// input sizes (the input channel is filled, and closed or not, before the pipeline starts); run
// by the stress pass with -race at -cpu 1,2,4,8. (Before the fix, a stage's or a sink's receive
// chose at random between a ready item and the end, and a call came after the end in about half
// the rounds.)
func TestStressNoUserCallAfterTheEnd(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, seed>>1))
	rounds := *stressRuns * 4
	if testing.Short() {
		rounds = min(rounds, 40)
	}
	cases := endCases()
	bad, late := 0, int64(0)
	var first string
	badKinds := map[string]int{} // rounds with a late call, by part
	for round := range rounds {
		c := cases[r.IntN(len(cases))]
		tr := endTriggers[r.IntN(len(endTriggers))]
		if tr.name == "own Stop" && !c.sink {
			tr = endTriggers[0]
		}
		n := c.workers + r.IntN(64)
		closed := r.IntN(2) == 0
		extra := endRound(t, c, tr.name, n, closed)
		if extra > 0 {
			bad++
			late += extra
			badKinds[c.kind]++
			if first == "" {
				first = fmt.Sprintf("round %d: %s ended by %q with %d items waiting: %d calls after the end", round, c.kind, tr.name, n, extra)
			}
		}
	}
	assert.Zero(t, bad, "rounds with a user call after the end (of %d; %d calls in all; by part %v; first: %s; seed %d)",
		rounds, late, badKinds, first, seed)
}

// endRound runs one round and returns the number of calls of the part's func after the end.
func endRound(t *testing.T, c endCase, trigger string, n int, closed bool) int64 {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := pipe.New(ctx)
	in := make(chan int, n)
	for i := range n {
		in <- i
	}
	if closed {
		close(in)
	}
	boom := errors.New("boom")
	fire := make(chan struct{})
	if trigger == "another part fails" {
		_ = pipe.Generate(p, func(context.Context, func(int) bool) error { <-fire; return boom })
	}
	var calls atomic.Int64
	entered := make(chan struct{}, c.workers)
	fn := func(ctx context.Context, _ int) error {
		k := calls.Add(1)
		if k > int64(c.workers) {
			return nil // after the end: counted, and nothing more
		}
		if k == int64(c.workers) {
			switch trigger {
			case "own error":
				return boom
			case "own Stop":
				p.Stop()
				return nil
			}
		}
		entered <- struct{}{}
		<-ctx.Done()
		return nil
	}
	go func() {
		want := c.workers
		if trigger == "own error" || trigger == "own Stop" {
			want-- // the last call ends the pipeline itself
		}
		for range want {
			<-entered
		}
		switch trigger {
		case "Stop":
			p.Stop()
		case "parent cancelled":
			cancel()
		case "another part fails":
			close(fire)
		}
	}()
	err := c.build(p, in, fn)
	switch trigger {
	case "Stop", "own Stop":
		require.NoError(t, err, "%s ended by %s", c.kind, trigger)
	case "parent cancelled":
		require.ErrorIs(t, err, context.Canceled, "%s ended by %s", c.kind, trigger)
	default:
		require.ErrorIs(t, err, boom, "%s ended by %s", c.kind, trigger)
	}
	return max(calls.Load()-int64(c.workers), 0)
}
