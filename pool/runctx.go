package pool

import (
	"context"
	"fmt"
	"sync/atomic"
)

// runCtx is the context a run passes to the work func, with a check cheap enough to make
// before every item, and exact: once ctx.Err() is set, done reports true.
//
// The context ends when its parent ends, or when the run ends it itself with end (the consumer
// stopped, a fail-fast run failed, the source panicked). end records the first cause given to
// it and sets ended before it cancels the context, so that a goroutine that finds ended set
// finds the cause too, and one that finds ctx.Err() set finds ended set. When the parent can
// never end (its Done is nil, as for context.Background), every ending is the run's own, and
// done is an atomic load of ended instead of an interface call on the context, which is most of
// what the pool adds to a trivial item; it turns true no later than ctx.Err() would. When the
// parent can end, done is ctx.Err() itself, exact at once when the parent is cancelled.
//
// Every ending goes through end, never cancel alone, so that ended is set whenever ctx has
// ended (ownCtx relies on it). Writers: first is set once, by the first end, with a CAS; ended
// is set only by that end, after first and before cancel. Readers: done and cause, on any
// goroutine.
type runCtx struct {
	ctx        context.Context
	cancel     context.CancelCauseFunc
	parent     context.Context
	parentEnds bool
	first      atomic.Pointer[error] // the cause given to the first end
	ended      atomic.Bool
}

func (c *runCtx) init(parent context.Context) {
	c.parent = parent
	c.ctx, c.cancel = context.WithCancelCause(parent)
	c.parentEnds = parent.Done() != nil
	if !c.parentEnds {
		c.ctx = &ownCtx{Context: c.ctx, ended: &c.ended, done: c.ctx.Done()}
	}
}

// ownCtx is the context passed to work funcs when the parent can never end, so that every ending
// is the run's own: its Err is nil until ended is set, and the inner context's after that, and
// its Done is the inner context's channel, read once. A work func checks its context often (an
// fsm.Machine asks for Done once a run and for Err before every stage), and the inner
// cancelCtx's Err and Done each load an atomic.Value and assert its type, where ownCtx loads
// one flag or one field. It is the inner context for everything else: Value (so
// context.Cause, and child contexts, which find the inner cancelCtx and register with it, as for
// the inner context itself), Deadline, and the order of the ending (ended is set before the
// cancel, so Err is not nil only once ended is set, as with the inner context alone).
type ownCtx struct {
	context.Context
	ended *atomic.Bool
	done  <-chan struct{}
}

func (c *ownCtx) Done() <-chan struct{} { return c.done }

func (c *ownCtx) Err() error {
	if !c.ended.Load() {
		return nil
	}
	return c.Context.Err()
}

func (c *ownCtx) String() string { return fmt.Sprint(c.Context) }

// end cancels the context with cause. The first call wins, as with context.CancelCauseFunc; a
// later one does nothing, so the cause recorded and the context's are the same.
func (c *runCtx) end(cause error) {
	if !c.first.CompareAndSwap(nil, &cause) {
		return
	}
	c.ended.Store(true)
	c.cancel(cause)
}

// done reports whether the context has ended, as ctx.Err() != nil does.
func (c *runCtx) done() bool {
	if c.parentEnds {
		return c.ctx.Err() != nil
	}
	return c.ended.Load()
}

// cause is why the context ended, once done has reported true: the parent's cause when the
// parent has ended, or the cause given to end.
func (c *runCtx) cause() error {
	if c.parentEnds {
		if err := context.Cause(c.parent); err != nil {
			return err
		}
	}
	if p := c.first.Load(); p != nil {
		return *p
	}
	return context.Cause(c.ctx)
}
