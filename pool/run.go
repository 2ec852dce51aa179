package pool

import (
	"context"
	"errors"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// PanicError is the error an item gets when the work func panicked on it: the panic value and the
// stack of the worker where it was recovered.
type PanicError = panics.Error

// Result is one item's outcome on the channel [RunChan] returns.
type Result[T any] struct {
	// Value is the work func's result, or, when Err is set, the item as it came from the source.
	Value T
	// Err is the work func's error, a *[PanicError], or the reason the item did not run.
	Err error
}

// errConsumerStopped is the cause of the run's context once the consumer has stopped ranging.
var errConsumerStopped = errors.New("pool: the consumer stopped reading results")

// Run returns the results of fn applied to every item of src by concurrent workers (see the
// package documentation for the contract). Run itself does nothing: each range over the returned
// sequence starts a run, and the range ends once every goroutine of the run has ended.
//
// Run panics if src or fn is nil.
func Run[T any](ctx context.Context, src iter.Seq[T], fn func(context.Context, T) (T, error), opts ...Option) iter.Seq2[T, error] {
	if src == nil {
		panic("pool: Run: nil source")
	}
	if fn == nil {
		panic("pool: Run: nil work func")
	}
	o := newOptions(opts)
	return func(yield func(T, error) bool) {
		r := start(ctx, fn, o)
		r.produce(func(quit <-chan struct{}) bool {
			for v := range src {
				if !r.push(v, quit) {
					return false
				}
			}
			return true
		})
		r.consume(yield)
	}
}

// RunChan is [Run] with channels: it reads items from src until src is closed and sends every
// result on the returned channel, which is closed once every goroutine of the run has ended.
// A consumer that stops reading early must cancel ctx; the run then ends without anyone draining
// the channel, even while src delivers nothing. [Repanic] has no effect: the results are sent
// from a goroutine of the run, where re-raising would crash the program, so a panic stays that
// item's error. RunChan returns at once.
//
// RunChan panics if src or fn is nil.
func RunChan[T any](ctx context.Context, src <-chan T, fn func(context.Context, T) (T, error), opts ...Option) <-chan Result[T] {
	if src == nil {
		panic("pool: RunChan: nil source channel")
	}
	if fn == nil {
		panic("pool: RunChan: nil work func")
	}
	o := newOptions(opts)
	o.repanic = false // no goroutine of the caller's reads the results: a panic stays the item's error
	out := make(chan Result[T], o.workers)
	r := start(ctx, fn, o)
	r.produce(func(quit <-chan struct{}) bool {
		for {
			select {
			case v, ok := <-src:
				if !ok {
					return true
				}
				if !r.push(v, quit) {
					return false
				}
			case <-r.ctx.Done():
				return false
			case <-quit:
				return false
			}
		}
	})
	go func() { // owned by the run: it ends when the run's results end or ctx is done
		defer close(out)
		r.consume(func(v T, err error) bool {
			select {
			case out <- Result[T]{Value: v, Err: err}:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	return out
}

// run is the state of one run: the feed from the producer to the workers, the workers' result
// batches on their way to the consumer, and the stop signals.
type run[T any] struct {
	o        options
	fn       func(context.Context, T) (T, error)
	ctx      context.Context // passed to fn; cancelled when the run ends, fails fast, or the parent ends
	cancel   context.CancelCauseFunc
	parent   context.Context
	feed     *feed[T]
	out      chan *batch[T]
	quit     chan struct{} // closed when the consumer has stopped: everything exits at once
	quitOne  sync.Once
	done     atomic.Bool // the run's context ended: no item starts any more
	cut      atomic.Bool // the producer stopped before the source's end
	live     atomic.Int32
	first    atomic.Pointer[Result[T]] // first error of a fail-fast run
	gate     sync.RWMutex              // fail-fast only: workers start items under its read side
	wg       sync.WaitGroup
	unhook   func() bool
	hookDone chan struct{}
}

func start[T any](parent context.Context, fn func(context.Context, T) (T, error), o options) *run[T] {
	ctx, cancel := context.WithCancelCause(parent)
	r := &run[T]{
		o: o, fn: fn, ctx: ctx, cancel: cancel, parent: parent,
		feed: newFeed[T](2*o.workers+2, o.workers, ctx.Done()),
		out:  make(chan *batch[T], 2*o.workers),
		quit: make(chan struct{}),
	}
	r.hookDone = make(chan struct{})
	r.unhook = context.AfterFunc(ctx, func() {
		defer close(r.hookDone)
		r.done.Store(true)
	})
	r.live.Store(int32(o.workers))
	for i := range o.workers {
		w := newWorker(r, i)
		r.wg.Go(w.loop) // each worker ends when the feed is drained or the run stops
	}
	return r
}

// produce reads the source on a goroutine of the run, which ends when the source ends, the run's
// context ends, or the consumer stops.
func (r *run[T]) produce(read func(quit <-chan struct{}) bool) {
	r.wg.Go(func() {
		if !read(r.quit) {
			r.cut.Store(true)
		}
		r.feed.close()
	})
}

// push publishes one item, or reports false when the run no longer takes items.
func (r *run[T]) push(v T, quit <-chan struct{}) bool {
	if r.done.Load() {
		return false
	}
	return r.feed.push(v, quit)
}

// stop ends the run for good: the consumer will read nothing more.
func (r *run[T]) stop(cause error) {
	r.quitOne.Do(func() {
		r.done.Store(true)
		r.cancel(cause)
		close(r.quit)
		r.feed.stop()
	})
}

// fail records the first error of a fail-fast run and stops new items from starting.
func (r *run[T]) fail(v T, err error) {
	if r.first.CompareAndSwap(nil, &Result[T]{Value: v, Err: err}) {
		r.done.Store(true)
		r.cancel(err)
	}
}

// cause is why items stopped starting before the source's end: the parent's cause, or a
// fail-fast error.
func (r *run[T]) cause() error {
	if err := context.Cause(r.parent); err != nil {
		return err
	}
	return context.Cause(r.ctx)
}
