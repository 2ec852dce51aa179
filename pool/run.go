package pool

import (
	"context"
	"fmt"
	"iter"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// PanicError is the error an item gets when the work func panicked on it (or the run's last
// error when the source panicked). Its fields are Value, the value passed to panic, and Stack,
// the stack of the goroutine that panicked as runtime/debug.Stack prints it. Error returns one
// line; %+v adds the stack. errors.Is and errors.As reach a Value that is an error.
type PanicError = panics.Error

// ErrGoexit is the error an item gets when the work func called runtime.Goexit (as
// testing.T.FailNow does) instead of returning: the worker is replaced and the run carries on.
var ErrGoexit = panics.ErrGoexit

// Result is one item's outcome on the channel [RunChan] returns.
type Result[T any] struct {
	// Value is the work func's result, or, when Err is set, the item as it came from the source.
	Value T
	// Err is the work func's error, a *[PanicError], or the reason the item did not run.
	Err error
}

// ItemError is the error [Map] gives for an item that failed: the item as it came from the
// source, and why it failed (the work func's error, a *[PanicError], or the context's cause).
type ItemError[In any] struct {
	Item In
	Err  error
}

// Error returns the cause, prefixed so that it reads as an item's failure.
func (e *ItemError[In]) Error() string { return fmt.Sprintf("pool: item failed: %v", e.Err) }

// Unwrap returns the cause.
func (e *ItemError[In]) Unwrap() error { return e.Err }

// Run returns the results of fn applied to every item of src by concurrent workers (see the
// package documentation for the contract). A failed item's result is the item as it came from
// the source, with its error. Run itself does nothing: each range over the returned sequence
// starts a run, and the range ends once every goroutine of the run has ended.
//
// Run panics if ctx, src or fn is nil.
func Run[T any](ctx context.Context, src iter.Seq[T], fn func(context.Context, T) (T, error), opts ...Option) iter.Seq2[T, error] {
	mustRun("Run", ctx, "source", src != nil, fn != nil)
	o := newOptions(opts)
	return func(yield func(T, error) bool) {
		r := start(ctx, fn, sameItem[T], nil, o)
		r.produce(seqReader(r, src))
		r.consume(yield)
	}
}

// Map is [Run] for a work func whose result is of another type than its item: a failed item's
// result is the zero Out with an *[ItemError] that carries the item and the cause (errors.Is and
// errors.As reach the cause through it).
//
// Map panics if ctx, src or fn is nil.
func Map[In, Out any](ctx context.Context, src iter.Seq[In], fn func(context.Context, In) (Out, error), opts ...Option) iter.Seq2[Out, error] {
	mustRun("Map", ctx, "source", src != nil, fn != nil)
	o := newOptions(opts)
	return func(yield func(Out, error) bool) {
		r := start(ctx, fn, itemError[In, Out], nil, o)
		r.produce(seqReader(r, src))
		r.consume(yield)
	}
}

// RunChan is [Run] with channels: it reads items from src until src is closed or ctx ends, and
// sends every result on the returned channel, which is closed once every goroutine of the run
// has ended. Read the channel until it is closed: when ctx ends, the run stops reading src and
// starting items, every item it had read still gets a result (ctx's cause, for those it did not
// run), the last result is (zero value, cause), and the channel closes at once after them. A
// consumer that wants to stop early cancels ctx and drains the channel, which then takes only as
// long as the work funcs already running. [Repanic] has no effect: the results are sent from a
// goroutine of the run, where re-raising would crash the program, so a panic stays that item's
// error. RunChan returns at once.
//
// RunChan panics if ctx, src or fn is nil.
func RunChan[T any](ctx context.Context, src <-chan T, fn func(context.Context, T) (T, error), opts ...Option) <-chan Result[T] {
	mustRun("RunChan", ctx, "source channel", src != nil, fn != nil)
	o := newOptions(opts)
	o.repanic = false // no goroutine of the caller's reads the results: a panic stays the item's error
	out := make(chan Result[T], o.workers)
	r := start(ctx, fn, sameItem[T], nil, o)
	r.produce(func(quit <-chan struct{}) bool {
		for {
			select {
			case v, ok := <-src:
				if !ok {
					return true
				}
				if !r.feed.push(v, quit) || r.done() {
					return false
				}
			case <-r.ctx.Done():
				return false
			}
		}
	})
	go func() { // owned by the run: it ends once the run's last result is sent
		defer close(out)
		r.consume(func(v T, err error) bool {
			out <- Result[T]{Value: v, Err: err}
			return true
		})
	}()
	return out
}

// seqReader reads src into the run until it ends, the run's context ends, or the consumer stops.
// It checks the run's context (runCtx.done, exact) after publishing each item, so once the
// context has ended it takes from the source at most the item in hand, which gets its result.
func seqReader[In, Out any](r *run[In, Out], src iter.Seq[In]) func(quit <-chan struct{}) bool {
	return func(quit <-chan struct{}) bool {
		if r.done() {
			return false
		}
		for v := range src {
			if !r.feed.push(v, quit) || r.done() {
				return false
			}
		}
		return true
	}
}

// sameItem is what a failed item of Run or RunChan yields: the item itself, with its error.
func sameItem[T any](v T, err error) (T, error) { return v, err }

// itemError is what a failed item of Map yields: the zero Out, with an error carrying the item.
func itemError[In, Out any](v In, err error) (Out, error) {
	var zero Out
	return zero, &ItemError[In]{Item: v, Err: err}
}

// mustRun panics, naming the entry point called and the argument, when the context, the source
// or the work func is nil: at the call, not when the results are first ranged over.
func mustRun(call string, ctx context.Context, source string, src, fn bool) {
	if ctx == nil {
		panic(fmt.Sprintf("pool: %s: nil context", call))
	}
	if !src {
		panic(fmt.Sprintf("pool: %s: nil %s", call, source))
	}
	if !fn {
		panic(fmt.Sprintf("pool: %s: nil work func", call))
	}
}
