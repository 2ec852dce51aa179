package group

import (
	"runtime"
	"time"
)

// No finished result held back. A worker runs its batch item by item and publishes the results
// when the batch ends, one lock for the batch. An item that blocks (it waits on something its
// group's consumer does next, or never returns) would hold back the results of the batch-mates
// that finished before it. So the worker stores, before it starts each item, how many of the
// batch's items are finished (batch.done, an atomic: the one store an item that this costs), and
// the group lists its running batches (batches, under mu). A reader that finds no result ready
// while a batch of its group runs waits at most rescueAfter for the batch's publish; then it
// takes the finished part itself (rescue), under the group's lock, as publish would, and records
// how far it took (batch.from, under mu), so that publish makes the results of the rest only.
//
// Who writes what: the worker writes a batch's outs and errs at positions at or above done, and
// stores done after the writes; the reader reads only positions below done, under the group's
// mu, and writes from; claim and publish (under mu) reset and read from. untimed is set by the
// reader (wait) when it waits with no batch running, and cleared by it (take) or by the claim that
// starts its timer (claimed), all under mu: so a batch claimed while its reader waits always
// bounds that wait. The items after a blocked one have not started and wait for it: taking them
// back is left undone.

// rescueAfter is how long a reader waits for a running batch's publish before it takes the
// batch's finished part itself: a result is handed over within about this time of its item
// finishing, whatever its batch-mates do.
var rescueAfter = 500 * time.Microsecond

// unlist removes the batch b, about to be published, from g's running batches. g.mu is held.
func (g *MapGroup[K, In, Out]) unlist(b *batch[K, In, Out]) {
	for k, o := range g.batches {
		if o == b {
			last := len(g.batches) - 1
			g.batches[k], g.batches[last] = g.batches[last], nil
			g.batches = g.batches[:last]
			return
		}
	}
}

// wait blocks the reader until a worker has published results or the group is finished. The
// worker that publishes does not yield its processor to the woken reader: the reader runs when
// the worker next yields (every few batches) or blocks, which measured better than a yield a
// batch, above all with many readers (BenchmarkRequestResponse at 1024 clients: 57% more round
// trips a second). While a batch of the group runs, the reader waits at most rescueAfter, then
// takes the batch's finished part (rescue), and waits again if there was none.
func (g *MapGroup[K, In, Out]) wait(streaming bool) {
	// A streaming group's reader (its group holds a reader's buffer of items or more) first
	// yields its processor a few times, looking for the token in between: while workers work
	// through such a backlog a result comes within a yield or two, and a reader that finds it
	// so was never parked, so the worker's signal wakes nobody (BenchmarkW1 group: 20% less
	// time an item). A group with fewer items does not: with a thousand such readers, as in
	// request/response, the yields took the workers' processors (half the round trips).
	// g.notify is written only by this goroutine (take), so it is read here without the lock.
	if streaming {
		for range readerSpins {
			if len(g.notify) > 0 {
				<-g.notify
				return
			}
			runtime.Gosched()
		}
	}
	for {
		g.mu.Lock()
		notify := g.notify // made by take before it found nothing
		running := len(g.batches) > 0
		if running && g.rescueTimer == nil {
			g.rescueTimer = time.NewTimer(rescueAfter)
		} else if running {
			g.rescueTimer.Reset(rescueAfter)
		}
		g.untimed = !running
		t := g.rescueTimer // nil until a batch of the group ran while its reader waited
		g.mu.Unlock()
		var fired <-chan time.Time
		if t != nil {
			fired = t.C // stopped unless running, or a claim since started it (claimed)
		}
		select {
		case <-notify:
			if t != nil {
				t.Stop()
			}
			return
		case <-fired:
			if g.rescue() {
				return
			}
		}
	}
}

// claimed is called by a claim of a batch of k items for g, under g.mu. When the reader waits with
// no batch running (untimed) and the batch has a batch-mate for a result to wait behind, the
// reader must come to rescue it: the claim starts the reader's rescue timer, or, if the reader has
// none yet, wakes it to start one. Without it a reader that began to wait between two batches
// slept through the next one, and a finished result waited behind a batch-mate that blocked
// for as long as it blocked (TestFinishedResultIsNotHeldBehindABlockedBatchMate caught it about
// once in 400 runs). A batch of one item holds nothing back, so request/response, one item in
// flight a group, never pays the wake-up.
func (g *MapGroup[K, In, Out]) claimed(k int) {
	if !g.untimed || k < 2 {
		return
	}
	g.untimed = false
	if g.rescueTimer != nil {
		g.rescueTimer.Reset(rescueAfter)
		return
	}
	signal(g.notify)
}

// rescue takes the finished part of each of g's running batches that no publish or rescue has
// taken, as publish would, and reports whether it took any.
func (g *MapGroup[K, In, Out]) rescue() bool {
	var now int64
	took, failed := 0, 0
	var first error
	g.mu.Lock()
	for _, b := range g.batches {
		done := int(b.done.Load())
		if done <= b.from {
			continue
		}
		f, rt, e := g.finishItems(b, b.from, done, &now)
		g.running -= done - b.from
		g.countRetried(rt)
		g.count(0, done-b.from-f-rt, f)
		took += done - b.from
		failed += f
		first = cmpOr(first, e)
		b.from = done
	}
	var cause error
	if g.o.failFast && failed > 0 && g.ctx.Err() == nil {
		cause = g.failing(first)
	}
	g.mu.Unlock()
	if cause != nil {
		g.abandon(cause) // as publish does: the items not started fail with the cause
	}
	return took > 0
}

// readerSpins is how many times a reader that found no result yields its processor, looking for
// one in between, before it waits on the group's token.
const readerSpins = 4
