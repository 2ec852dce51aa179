package pool

import (
	"context"
	"sync/atomic"
)

// runCtx is the context a run passes to the work func, with a check cheap enough to make
// before every item.
//
// The context ends when its parent ends, or when the run ends it itself with end (the consumer
// stopped, a fail-fast run failed, the source panicked). When the parent can never end (its
// Done is nil, as for context.Background), every ending is the run's own: end sets ended once
// the cancel has returned, so a worker that reads ended true finds the cause set, and one that
// reads it false began its item while end was still running, which is no later than ctx.Err()
// would have let it. done then costs an atomic load of a bool instead of an interface call on
// the context, which is most of what the pool adds to a trivial item. When the parent can end,
// done is ctx.Err() itself, exact at once when the parent is cancelled.
//
// Writers: ended is set only by end, after cancel. Readers: done, on any goroutine.
type runCtx struct {
	ctx        context.Context
	cancel     context.CancelCauseFunc
	parentEnds bool
	ended      atomic.Bool
}

func (c *runCtx) init(parent context.Context) {
	c.ctx, c.cancel = context.WithCancelCause(parent)
	c.parentEnds = parent.Done() != nil
}

// end cancels the context with cause; the first cause wins, as with context.CancelCauseFunc.
func (c *runCtx) end(cause error) {
	c.cancel(cause)
	c.ended.Store(true)
}

// done reports whether the context has ended, as ctx.Err() != nil does.
func (c *runCtx) done() bool {
	if c.parentEnds {
		return c.ctx.Err() != nil
	}
	return c.ended.Load()
}
