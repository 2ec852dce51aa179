package group

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"github.com/stagecoach-go/stagecoach/internal/engine"
	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// batch is a worker's run of items from one group.
type batch[K comparable, In, Out any] struct {
	g    *MapGroup[K, In, Out] // the group of the batch being run; nil between batches
	idx  []int
	ins  []In    // the items as submitted
	outs []Out   // the work func's results, of the items that succeeded
	errs []error // the causes of the items that failed, not yet wrapped with the key
	pos  int     // the item being run
	// checks holds, for each item, what its start is checked against (expire.go), when the
	// group has a MaxWait or an item's submitting context can end; empty otherwise. Copied
	// from the slots at claim, so the worker checks each start with no lock held.
	checks []startCheck
	timed  bool // the batch is timed, for its group to learn its quantum
	took   time.Duration
	// weighted says the batch's group is served by weight (see weight.go); est is the cost it
	// was charged when claimed.
	weighted bool
	est      int64
	expired  int // items of the batch that expired before they started (expire.go)
	skipped  int // items of the batch failed before they ran: the expired, and retries given up
	n        int // batches run by this worker, to yield every yieldEvery
	// done is how many of the batch's items are finished (their outs and errs final): stored by
	// the worker before it starts each item, so that the group's reader can take the finished
	// part of a batch that runs long (rescue.go). from is how many a reader has so taken: under
	// the group's mu. Invariant: from <= done <= pos.
	done atomic.Int32
	from int
}

// timeEvery: one batch of a group in this many is timed, to keep clock reads off the hot path.
// The count is the group's own (Group.claims), not a worker's: with a worker's count, a fixed
// rotation of the queue of groups (one worker, an even number of busy groups) timed the batches
// of some groups only, and the others never learned their quantum: they moved one item a turn
// while the timed ones moved up to 256.
const timeEvery = 4

// learnFirst: a group's first batches, all timed.
const learnFirst = 8

// claim takes the next run of g's items for a worker, just taken from the router's queue: at
// most g's quantum (one for a serial group), and, for items slow enough that the quantum is
// below its maximum, at most an even share of g's pending items among the workers, so that slow
// items spread over idle workers before they are batched. popped says whether the worker took g
// out of the router's queue (or found it locked and left it there). claim reports whether it
// took any items (g may have nothing to hand out now), and whether g must be put in the queue,
// having more to hand out and not being in it. In a weighted router (see weight.go) the batch is
// one turn of g's weight instead of its quantum, and its estimate is added to g's vtime. g.mu
// is held.
func (g *MapGroup[K, In, Out]) claim(b *batch[K, In, Out], popped bool) (claimed, requeue bool) {
	if popped {
		g.queued = false
	}
	if g.pending() == 0 || (g.o.serial && g.busy()) || g.ctx.Err() != nil {
		return false, false
	}
	k := min(g.quantum, g.pending())
	weighted := g.r.weighted.Load()
	if weighted {
		k = min(g.turn(), g.pending())
	}
	if g.quantum < maxQuantum {
		// Items slow enough to be batched a few at a time: spread them over the workers too.
		workers := g.r.o.workers
		k = min(k, (g.pending()+workers-1)/workers)
	}
	if g.o.serial {
		k = 1
	}
	// A group's first batches are all timed, so that it learns its quantum fast; then one in
	// timeEvery. A serial group's batch is one item whatever it learns. In a weighted router every
	// batch is timed: its time is charged to its group.
	b.timed = weighted || !g.o.serial && (g.claims < learnFirst || g.claims%timeEvery == 0)
	g.claims++
	b.g = g
	b.idx, b.ins, b.errs, b.checks = b.idx[:0], b.ins[:0], b.errs[:0], b.checks[:0]
	b.expired, b.skipped = 0, 0
	var now int64 // read once, if an item must be checked (expire.go)
	check := g.o.maxWait > 0 || g.stamped
	// An expired item is failed in the batch and does not start: it does not count towards k, so
	// that under overload a worker sheds a run of expired items in one claim (at most
	// maxQuantum beyond k) rather than one claim each.
	// At the edge of its MaxWait (see atEdge), a plain group sheds its expired front and then
	// serves its newest items first.
	lifo := check && g.atEdge(&now)
	for live := 0; live < k && g.st.pending.len() > 0 && len(b.idx) < k+maxQuantum; {
		if !lifo { // the hot path, written out
			i := g.st.pending.pop()
			s := &g.st.slots[i]
			b.idx = append(b.idx, i)
			b.ins = append(b.ins, s.in)
			var err error
			if check {
				err = g.expired(s, &now)
				b.checks = append(b.checks, startCheck{s.at, s.ctx, s.tries})
			}
			if err != nil {
				b.skipped++
				if s.tries == 0 {
					b.expired++
				}
			} else {
				live++
			}
			b.errs = append(b.errs, err)
			continue
		}
		if err := g.expired(&g.st.slots[g.st.pending.peek()], &now); err != nil {
			g.add(b, g.st.pending.pop(), err)
			continue
		}
		if g.claimItem(b, g.st.pending.popBack(), check, &now) {
			live++
		}
	}
	k = len(b.idx)
	// Every item's out is written before publish reads it: the work func's result, or nothing
	// for an item that failed (publish makes its result from its item).
	b.outs = slices.Grow(b.outs[:0], k)[:k]
	b.done.Store(0)
	b.from = 0
	g.batches = append(g.batches, b)
	g.claimed(k)
	g.running += k
	g.count(k, 0, 0)
	if b.weighted = weighted; weighted {
		g.charge(b)
	}
	return true, g.enqueue()
}

// claimItem puts the item of slot i, just taken from the pending queue, in the batch b: to run, or
// failed without running if it must not start (checked if check, see expire.go). It reports
// whether the item runs. g.mu is held.
func (g *MapGroup[K, In, Out]) claimItem(b *batch[K, In, Out], i int, check bool, now *int64) bool {
	var err error
	if check {
		err = g.expired(&g.st.slots[i], now)
	}
	g.add(b, i, err)
	return err == nil
}

// add puts the item of slot i in the batch b, with err if it fails without running. g.mu is held.
func (g *MapGroup[K, In, Out]) add(b *batch[K, In, Out], i int, err error) {
	s := &g.st.slots[i]
	b.idx = append(b.idx, i)
	b.ins = append(b.ins, s.in)
	b.errs = append(b.errs, err)
	if g.o.maxWait > 0 || g.stamped {
		b.checks = append(b.checks, startCheck{s.at, s.ctx, s.tries})
	}
	if err != nil {
		b.skipped++
		if s.tries == 0 {
			b.expired++
		}
	}
}

// run processes the batch with no lock held. An item whose group's context has ended is not run:
// it fails with the context's cause.
func (g *MapGroup[K, In, Out]) run(b *batch[K, In, Out]) {
	b.n++
	timed := b.timed
	var began time.Time
	if timed {
		began = time.Now()
	}
	b.pos = 0
	g.runFrom(b)
	b.took = -1
	if timed {
		b.took = time.Since(began)
	}
}

// runFrom runs the batch's items from b.pos on. One deferred recover covers a run of items (see
// runSome), so a batch costs one defer, not one an item.
func (g *MapGroup[K, In, Out]) runFrom(b *batch[K, In, Out]) {
	for b.pos < len(b.ins) {
		g.runSome(b)
	}
}

// runSome runs the batch's items from b.pos on until the end, or until a work func panics: that
// item's result is the item itself with a *PanicError (with the stack), and runSome returns past
// it. A work func that calls runtime.Goexit is not recovered: the goroutine ends, with b.pos at
// its item, and Router.serve's deferred func takes over.
func (g *MapGroup[K, In, Out]) runSome(b *batch[K, In, Out]) {
	engine.Guard(func() {
		for b.pos < len(b.ins) {
			b.done.Store(int32(b.pos)) // the items before it are finished: see rescue.go
			if b.errs[b.pos] != nil {  // expired: it does not start
				b.pos++
				continue
			}
			if b.pos > 0 && len(b.checks) > 0 && g.lateStart(b) {
				continue // it would start too late: it does not start either
			}
			if g.done != nil && g.ctx.Err() != nil {
				b.errs[b.pos] = g.endedErr()
				b.pos++
				continue
			}
			out, err := g.r.work(g.ctx, b.ins[b.pos])
			if err != nil {
				g.failed(b, err)
				continue
			}
			b.outs[b.pos] = out
			b.pos++
		}
	}, func(err error) {
		if err == panics.ErrGoexit {
			return // let it end the goroutine: Router.serve's deferred func fails the item
		}
		g.failed(b, err)
	})
}

// failed records the error of the batch's item at b.pos and moves past it: in a fail-fast group,
// past the rest of the batch too, which does not start.
func (g *MapGroup[K, In, Out]) failed(b *batch[K, In, Out], err error) {
	b.errs[b.pos] = err
	if g.o.failFast {
		g.skipRest(b, err)
		return
	}
	b.pos++
}

// skipRest fails the items of a fail-fast group's batch after one that failed with first,
// without running them: they have not started, and none may start after the group's first
// failure (publish then ends the group, and fails its items still pending the same way).
func (g *MapGroup[K, In, Out]) skipRest(b *batch[K, In, Out], first error) {
	var cause error
	for b.pos++; b.pos < len(b.ins); b.pos++ {
		if cause == nil {
			cause = failedCause(first)
		}
		if b.errs[b.pos] == nil { // an expired item keeps its own error
			b.errs[b.pos] = cause
		}
	}
}

// endedErr is the cause of the failure of an item of g not run because g's context has ended:
// the context's cause (a fail-fast group's own cause, its first failure, without the key it
// carries: the item's result gets it).
func (g *MapGroup[K, In, Out]) endedErr() error {
	cause := context.Cause(g.ctx)
	if e, ok := cause.(*Error[K]); ok && g.o.failFast && errors.Is(e, ErrGroupFailed) {
		return e.Err
	}
	return cause
}

// publish stores the batch's results in their slots for the reader, and learns from its timing.
// A fail-fast group's first failure fails the group.
func (g *MapGroup[K, In, Out]) publish(b *batch[K, In, Out]) {
	var now int64 // read once, if an item is retried
	g.mu.Lock()
	g.unlist(b)
	n := len(b.idx) - b.from // the items a reader has not taken (rescue.go)
	failed, retried, first := g.finishItems(b, b.from, len(b.idx), &now)
	g.running -= n
	if ran := len(b.idx) - b.skipped; b.took >= 0 && ran > 0 {
		g.learn(b.took, ran)
	}
	if b.expired > 0 {
		g.stats.expired.Add(int64(b.expired))
	}
	g.countRetried(retried)
	if b.weighted {
		g.settle(b)
	}
	var cause error
	if g.o.failFast && failed > 0 && g.ctx.Err() == nil {
		cause = g.failing(first)
	}
	queue := g.enqueue()
	idle := g.idle()
	g.count(0, n-failed-retried, failed) // before the reader can see the results
	signal(g.notify)
	g.mu.Unlock()
	b.g = nil
	if queue {
		g.r.schedule(g)
	}
	if cause != nil {
		g.abandon(cause) // the items not started fail with the cause, and the group ends
	}
	if idle {
		g.r.retire(g)
	}
}

// finishItems makes the results of b's items from j0 up to j1 ready for the reader: the work
// func's value, or the item with its error; an item its Retry policy sends back to wait out a
// backoff is not finished. It returns how many failed and how many were sent back, and the first
// failure. g.mu is held.
func (g *MapGroup[K, In, Out]) finishItems(b *batch[K, In, Out], j0, j1 int, now *int64) (failed, retried int, first error) {
	for j := j0; j < j1; j++ {
		i := b.idx[j]
		s := &g.st.slots[i]
		err := b.errs[j]
		if err == nil {
			s.out = b.outs[j]
			g.finish(i)
			continue
		}
		again, err := g.retry(s, i, err, now)
		if again { // back to wait out its backoff: not finished
			retried++
			continue
		}
		failed++
		first = cmpOr(first, err)
		s.out, s.err = g.result(b.ins[j], err)
		g.finish(i)
	}
	return failed, retried, first
}

// countRetried counts items sent back to wait for a retry: no longer started.
func (g *MapGroup[K, In, Out]) countRetried(retried int) {
	if retried > 0 {
		g.stats.retried.Add(int64(retried))
		g.stats.started.Add(-int64(retried)) // queued again
	}
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// failing starts the end of a fail-fast group at its first failure, first (an item's cause,
// without the key), before anyone else can see that failure: the group's context (the one its work
// funcs were given) is cancelled with the failure as the cause (an *Error wrapping
// ErrGroupFailed), so no worker claims or starts another item of it. publish then reclaims the
// group as if its context had ended (abandon): no more submissions, and every item not yet
// started fails with the cause, which failing returns without the key. g.mu is held.
func (g *MapGroup[K, In, Out]) failing(first error) error {
	cause := failedCause(first)
	g.unhook() // abandon runs once, from publish, not also from the hook
	g.cancel(&Error[K]{Key: g.key, Err: cause})
	return cause
}

// learn updates the estimate of an item's service time and the quantum it gives (see
// engine.ServiceTime). Timing noise on a loaded machine only adds time (a worker that loses its
// processor mid-batch), so the estimate follows a lower sample quickly and a higher one slowly: one
// stalled batch moves it by at most 1.25x. A group whose first batch was slow (a cold start) learns
// its real quantum within a few batches, and one stall does not leave a group behind the others for
// the many batches a plain moving average would take to come back; a real rise in service time is
// learned over a few samples. g.mu is held.
func (g *MapGroup[K, In, Out]) learn(took time.Duration, items int) {
	g.svc.Learn(took, items)
	g.quantum = g.svc.Fit(quantumTime, maxQuantum)
}

// goexited records that the item at b.pos called runtime.Goexit: it fails with ErrGoexit, as any
// failed item does (in a fail-fast group, with the rest of the batch).
func (b *batch[K, In, Out]) goexited() {
	b.g.failed(b, panics.ErrGoexit)
}
