package pool

import (
	"sync/atomic"
	"time"
)

// The early hand-over. A worker hands its results over a batch at a time (see worker.go), which
// makes the hand-over cost a fraction of a nanosecond an item on cheap items; but an item that
// runs long, or blocks until the consumer does something next, would hold back the results
// finished before it in its batch, forever if it never returns. So the consumer takes the
// finished part of a batch in progress itself.
//
// High-level idea: before it starts each item of a batch but the first, the worker publishes
// how many results the batch holds (one atomic store) and, the first time in a batch, counts the
// batch in held. The consumer looks at every worker's batch in progress (cur) and delivers what
// was published and not yet delivered (the batch's taken) when held says there is something and
// it has not looked for lookEvery: when a batch comes in (it was busy), or when its alarm rings
// while it waits for one. Once it has delivered a batch's results early, the batch comes in as
// usual when it is full, and the consumer delivers the rest. So a finished result waits at most
// lookEvery, plus the time to wake the consumer, for a batch-mate that runs long. In an ordered
// run the consumer takes only from the batch that holds the next result.
//
// Invariants (who writes what, what each atomic guards):
//   - worker.cur is written only by its worker: the batch it fills, after the batch's base and
//     before its first result, and nil before the batch is sent. worker.sent is raised after
//     that, before the send and before the next batch is stored in cur; the consumer counts the
//     batches it received from each worker (got), and in an unordered run takes from a batch in
//     cur only when it has received every batch the worker sent, so a worker's results come in
//     the order it finished them, as without the early hand-over. A batch is not reused before
//     the consumer has received and delivered it, so a batch the consumer finds in cur keeps its
//     published results while it reads them, even if it was sent meanwhile.
//   - batch.pub is stored only by the worker (and reset by the consumer in emit, while the batch
//     is the consumer's): every result below it is written, and does not change until the batch
//     is given back. batch.shown and batch.errs are written by the worker only under batch.mu,
//     when it grows the batch or adds an error; the consumer reads them under mu, with pub
//     loaded under mu, so shown holds every published result. batch.taken is the consumer's.
//   - batch.mark is 1 while the batch counts in held. The worker sets it (CAS 0 to 1, then
//     held+1) after a store of pub; the consumer clears it (CAS 1 to 0, then held-1) once it
//     has taken everything published, and in emit. So held > 0 whenever a batch in progress has
//     published results the consumer has not taken.
//   - waiting is the consumer's: busy, waiting with no alarm set, or waiting with the alarm set.
//     A worker that counts a batch in held while the consumer waits with no alarm sets the
//     alarm (CAS waitUnarmed to waitArmed, then Reset), so one of the two sets it, once.
//   - Wake-ups. The worker stores pub, then loads mark; the consumer clears mark, then loads pub:
//     both sequentially consistent, so a result published as the consumer unmarks is either
//     seen by the consumer, which marks the batch again, or marks it itself. The worker adds to
//     held, then loads waiting; the consumer stores waiting, then loads held: so when the
//     consumer goes to sleep, either it sees held > 0 and sets the alarm, or the worker sees it
//     waiting and sets the alarm. No published result is left with the consumer asleep and no
//     alarm set.
type handover struct {
	_       [64]byte // held and waiting are written by every worker and the consumer: a line of their own
	held    atomic.Int32
	waiting atomic.Int32
	_       [56]byte
	alarm   *time.Timer   // rings the consumer awake to look
	every   time.Duration // lookEvery, or a test's
}

// lookEvery is how often, at most, the consumer looks at the batches in progress for finished
// results held back by a long item. It is well above a batch's usual life (batchTime), so that
// batches that move do not get looked at, and well below the millisecond that a finished result
// may wait at most, which leaves room for the consumer's wake-up on a loaded machine.
const lookEvery = 250 * time.Microsecond

// The consumer's states, in handover.waiting.
const (
	busy        = iota // not waiting for a batch
	waitUnarmed        // waiting, with no alarm set: a worker that publishes sets it
	waitArmed          // waiting, with the alarm set
)

func (h *handover) setup(every time.Duration) {
	h.every = every
	h.alarm = time.NewTimer(time.Hour)
	h.alarm.Stop()
}

// hold counts a batch into which its worker has just published results in held, once, and makes
// sure that the consumer will look: if it waits with no alarm set, the worker sets it.
func (h *handover) hold(mark *atomic.Uint32) {
	if !mark.CompareAndSwap(0, 1) {
		return // the consumer marked it again meanwhile
	}
	h.held.Add(1)
	if h.waiting.Load() == waitUnarmed && h.waiting.CompareAndSwap(waitUnarmed, waitArmed) {
		h.alarm.Reset(h.every)
	}
}

// consumer is the state of the goroutine that delivers a run's results.
type consumer[In, Out any] struct {
	r       *run[In, Out]
	yield   func(Out, error) bool
	next    uint64        // ordered: the sequence number of the next result to deliver
	pending []*batch[Out] // ordered: batches that came ahead of next, at most two a worker
	got     []uint64      // unordered: batches received from each worker (see worker.sent)
	looked  time.Duration // when the consumer last looked at the batches in progress (run.clock)
}

// due reports whether the consumer should look at the batches in progress now: some has results
// it has not taken, and it has not looked for lookEvery.
func (c *consumer[In, Out]) due() bool {
	return c.r.held.Load() > 0 && c.r.clock.now()-c.looked >= c.r.every
}

// receive returns the next batch from the workers, with ok false once every worker has left.
// While it waits for one, it looks at the batches in progress whenever the alarm rings. alive is
// false when a result it delivered so stopped the consumer or failed a fail-fast run.
func (c *consumer[In, Out]) receive() (b *batch[Out], ok, alive bool) {
	r := c.r
	for {
		select {
		case b, ok = <-r.out:
			return b, ok, true
		default:
		}
		r.waiting.Store(waitUnarmed)
		if r.held.Load() > 0 && r.waiting.CompareAndSwap(waitUnarmed, waitArmed) {
			r.alarm.Reset(r.every - (r.clock.now() - c.looked)) // at once if a look is overdue
		}
		select {
		case b, ok = <-r.out:
			r.waiting.Store(busy)
			return b, ok, true
		case <-r.alarm.C:
			r.waiting.Store(busy)
			if !c.look() {
				return nil, false, false
			}
		}
	}
}

// look delivers the finished part of every batch in progress (in an ordered run, of the one
// that holds the next result). It reports false when the consumer stopped or a fail-fast run
// failed.
func (c *consumer[In, Out]) look() bool {
	c.looked = c.r.clock.now()
	for i, w := range c.r.workers {
		b := w.cur.Load()
		if b == nil || (c.got != nil && w.sent.Load() != c.got[i]) {
			continue // nothing in progress, or an earlier batch of the worker is on its way
		}
		if !c.take(b) {
			return false
		}
	}
	return true
}

// take delivers the results published in b and not delivered yet, and unmarks b once they are
// all taken.
func (c *consumer[In, Out]) take(b *batch[Out]) bool {
	r := c.r
	if r.o.ordered && b.base+uint64(b.taken) != c.next {
		return true // b does not hold the next result
	}
	b.mu.Lock()
	pub := int(b.pub.Load())
	vals, errs := b.shown[b.taken:pub], b.errs
	b.mu.Unlock()
	if k := len(vals); k > 0 {
		if !c.yieldAll(vals, errs, b.taken) {
			return false
		}
		b.taken = pub
		c.next += uint64(k)
		if r.window != nil {
			r.window.give(k)
		}
	}
	if b.mark.CompareAndSwap(1, 0) {
		r.held.Add(-1)
		if int(b.pub.Load()) > b.taken && b.mark.CompareAndSwap(0, 1) {
			r.held.Add(1) // published as it was unmarked: the next look takes it
		}
	}
	return true
}
