package group

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrExpired is wrapped by the error of an item that did not start in time: it waited in its
// group's queue longer than the group's [MaxWait], or the context it was submitted with ended
// before it started. Such an item's work func is never called. The error is an *[ExpiredError].
var ErrExpired = errors.New("group: expired before it started")

// An ExpiredError is the cause of the failure of an item that did not start in time (see
// [ErrExpired]): how long it waited, and why it expired. errors.Is reaches ErrExpired and, for an
// item whose submitting context ended, that context's cause (context.DeadlineExceeded for a
// deadline).
type ExpiredError struct {
	Waited  time.Duration // from its submission to when a worker found it expired
	MaxWait time.Duration // the group's MaxWait, if that is why; 0 if its context ended
	Cause   error         // the submitting context's cause, if that is why; nil otherwise
}

func (e *ExpiredError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%v after waiting %v: %v", ErrExpired, e.Waited, e.Cause)
	}
	return fmt.Sprintf("%v: waited %v, more than its max wait of %v", ErrExpired, e.Waited, e.MaxWait)
}

// Unwrap returns ErrExpired and, if the submitting context ended, its cause.
func (e *ExpiredError) Unwrap() []error {
	if e.Cause != nil {
		return []error{ErrExpired, e.Cause}
	}
	return []error{ErrExpired}
}

// MaxWait sheds load: an item of the group that a worker has not started within d of its
// submission fails with an *[ExpiredError] wrapping [ErrExpired] and the time it waited, and its
// work func is never called; [Stats] counts it in Expired (and Failed). An item is checked when
// a worker takes it from the group's queue in a run of items, and again just before it starts,
// after the items before it in the run: it never starts later than d after its submission. An
// expired item's result comes when a worker reaches the group. Once the group's
// oldest queued item has waited more than d/2, a worker sheds the expired ones and takes the
// newest first, unless the group is [Ordered] or [Serial]. A retried item
// ([Retry]) has started: MaxWait does not apply to it again. d of 0 (the default) sets no limit.
// MaxWait panics if d is negative.
func MaxWait(d time.Duration) GroupOption {
	if d < 0 {
		panic(fmt.Sprintf("group: MaxWait(%v): must not be negative", d))
	}
	return groupOption(func(o *groupOptions) { o.maxWait = d })
}

// stamp records, in the slot of an item just submitted with ctx (context.Background() for TrySubmit), what its
// start must be checked against: its submission time if the group has a MaxWait or ctx can end,
// and ctx if it can end. g.mu is held.
func (g *MapGroup[K, In, Out]) stamp(s *slot[In, Out], ctx context.Context) {
	if ctx != nil && ctx.Done() != nil {
		s.ctx = ctx
		g.stamped = true
	}
	if s.ctx != nil || g.o.maxWait > 0 {
		s.at = g.r.now()
	}
}

// expired returns the error of the item of slot s, just taken by a worker, if it must not start:
// its submitting context has ended, or (on its first attempt) it waited more than MaxWait. An item
// to be retried ([Retry]) whose submitting context ended is not run again: it fails with an
// *AttemptsError wrapping the context's cause. now is the time, read once a batch and only if
// needed (0 until then). g.mu is held.
func (g *MapGroup[K, In, Out]) expired(s *slot[In, Out], now *int64) error {
	return g.startErr(startCheck{s.at, s.ctx, s.tries}, now)
}

// A startCheck is what an item's start is checked against: its submission time on the router's
// clock, its submitting context if that can end, and the attempts it made (see slot).
type startCheck struct {
	at    int64
	ctx   context.Context
	tries int32
}

// startErr returns the error of an item that must not start now (see expired), given what its
// start is checked against. now is read if needed and still 0. It takes no lock: everything it
// reads is the item's own copy or the group's options.
func (g *MapGroup[K, In, Out]) startErr(c startCheck, now *int64) error {
	if c.ctx == nil && (g.o.maxWait == 0 || c.tries > 0) {
		return nil
	}
	if *now == 0 {
		*now = g.r.now()
	}
	waited := time.Duration(*now - c.at)
	// ctx.Err is read once: read twice, a deadline passing between the reads made a retried item
	// (one that has run) fail as expired, which says it never ran.
	if c.ctx != nil && c.ctx.Err() != nil {
		if c.tries > 0 {
			return &AttemptsError{Attempts: int(c.tries), Err: context.Cause(c.ctx)}
		}
		return &ExpiredError{Waited: waited, Cause: context.Cause(c.ctx)}
	}
	if g.o.maxWait > 0 && c.tries == 0 && waited > g.o.maxWait {
		return &ExpiredError{Waited: waited, MaxWait: g.o.maxWait}
	}
	return nil
}

// lateStart checks, as the worker is about to start it, the item at b.pos of a batch whose items
// are checked (b.checks): the items before it in the batch took time since the claim checked
// it. An item that must not start now gets its error in b.errs, counts as skipped (and as
// expired on its first attempt), the batch moves past it (in a [FailFast] group, past the rest
// of the batch, which does not start: see skipRest), and lateStart reports true. The first item
// of a batch is not checked again: the claim just did. No lock is held.
func (g *MapGroup[K, In, Out]) lateStart(b *batch[K, In, Out]) bool {
	var now int64
	c := b.checks[b.pos]
	err := g.startErr(c, &now)
	if err == nil {
		return false
	}
	b.errs[b.pos] = err
	b.skipped++
	if c.tries == 0 {
		b.expired++
	}
	if g.o.failFast {
		g.skipRest(b, err)
	} else {
		b.pos++
	}
	return true
}

// now is the router's clock: monotonic nanoseconds since it started.
func (r *MapRouter[K, In, Out]) now() int64 { return int64(time.Since(r.epoch)) + 1 }

// atEdge reports whether g serves its newest items first: a plain group (neither ordered nor
// serial) with a MaxWait whose oldest pending item has waited more than half of it. Under
// overload, a FIFO queue at the edge of its MaxWait serves only items that have waited about
// MaxWait, and sheds the others once they pass it; serving the newest first then serves items
// that have hardly waited, and lets the old ones expire (adaptive LIFO). now is read once a
// claim (see expired). g.mu is held.
func (g *MapGroup[K, In, Out]) atEdge(now *int64) bool {
	if g.o.maxWait == 0 || g.o.ordered || g.o.serial {
		return false
	}
	s := &g.st.slots[g.st.pending.peek()]
	if s.tries > 0 {
		return false // a retry: MaxWait no longer applies to it
	}
	if *now == 0 {
		*now = g.r.now()
	}
	return time.Duration(*now-s.at) > g.o.maxWait/2
}
