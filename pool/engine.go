package pool

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// run is the state of one run: the feed from the producer to the workers, the workers' result
// batches on their way to the consumer, and the stop signals (see stop.go for how a run ends).
type run[In, Out any] struct {
	o      options
	fn     func(context.Context, In) (Out, error)
	failed func(In, error) (Out, error) // the result of an item that failed: see Run and Map
	// skipped is the result of an item not run because the run's context had ended: failed,
	// but for RunSeq2's items that carry the source's error, which keep it.
	skipped func(In, error) (Out, error)
	runCtx  // ctx is passed to fn; it ends when the run stops starting items
	feed    *feed[In]
	window  *credits // ordered runs: the reorder window
	out     chan *batch[Out]

	workers []*worker[In, Out] // the consumer looks at their batches in progress: see handover.go
	clock   clock
	handover

	quit    chan struct{} // closed when the consumer has stopped: everything exits at once
	quitOne sync.Once
	cut     atomic.Bool // the producer stopped before the source's end
	live    atomic.Int32
	first   atomic.Pointer[Result[Out]] // the first error of a fail-fast run
	gate    sync.RWMutex                // fail-fast only: workers start items under its read side
	wg      sync.WaitGroup
}

// start starts the workers of a run. skipped may be nil: an item not run gets failed's result.
func start[In, Out any](parent context.Context, fn func(context.Context, In) (Out, error), failed, skipped func(In, error) (Out, error), o options) *run[In, Out] {
	if skipped == nil {
		skipped = failed
	}
	r := &run[In, Out]{
		o: o, fn: fn, failed: failed, skipped: skipped,
		feed: newFeed[In](2*o.workers+2, o.workers),
		out:  make(chan *batch[Out], 2*o.workers),
		quit: make(chan struct{}),
	}
	r.init(parent)
	if o.ordered {
		r.window = newCredits(o.window)
	}
	r.live.Store(int32(o.workers))
	r.clock = newClock()
	r.handover.setup(o.look)
	r.workers = make([]*worker[In, Out], o.workers)
	for i := range r.workers {
		r.workers[i] = newWorker(r, i)
	}
	for _, w := range r.workers {
		r.wg.Go(w.loop) // each worker ends when the feed is drained or the run stops
	}
	return r
}

// produce reads the source on a goroutine of the run, which ends when the source ends, the run's
// context ends, or the consumer stops. A panic of the source (or a runtime.Goexit in it) ends the
// run as the end of the context does, with the panic as the cause: no item starts any more, every
// item already read gets the cause as its error, and the run's last result is the cause.
func (r *run[In, Out]) produce(read func(quit <-chan struct{}) bool) {
	r.wg.Go(func() {
		defer r.feed.close()
		returned := false
		defer func() {
			if !returned {
				r.cut.Store(true)
				r.end(&sourceError{panics.Caught(recover())})
			}
		}()
		if !read(r.quit) {
			r.cut.Store(true)
		}
		returned = true
	})
}

// sourceError is the cause of a run whose source panicked or called runtime.Goexit.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return "pool: the source failed: " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }
