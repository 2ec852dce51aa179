package pool

import (
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/stagecoach-go/stagecoach/internal/engine"
	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// batch carries the results of one or more claims (runs of consecutive items, in an ordered
// run) from a worker to the consumer. Each worker owns two and gets them back from the consumer,
// so the steady state allocates nothing, and in an ordered run the worker holding the item the
// consumer waits for always has a batch to put it in (its earlier batches were all delivered).
// A batch starts empty and grows with the claims put in it (reserve), up to the worker's most
// items a batch, so a worker that claims few items (a short run, or many workers over slow
// items) holds room for few results.
//
// While its worker fills it, the consumer may take the finished part of a batch (see
// handover.go): the fields below owner are how the two share it.
type batch[T any] struct {
	base   uint64 // sequence number of the first item
	n      int    // items claimed into the batch: the results, and in a failed run, items skipped
	vals   []T
	errs   []errAt // the results that are errors, by index into vals; usually empty; under mu
	owner  chan *batch[T]
	worker int // the index of the worker that owns the batch

	// pub is how many results of vals are finished and published: the worker stores it before
	// it starts each item of the batch but the first; the consumer resets it in emit.
	pub atomic.Int32
	// mark is 1 while the batch counts in its run's held: set by the worker when it publishes
	// results, cleared by the consumer when it has taken them all or delivers the batch.
	mark atomic.Uint32
	// mu guards shown and errs, which the worker writes only when it grows the batch or adds
	// an error, against the consumer's early take. shown is vals as the consumer may read it:
	// the same backing array, with the capacity that holds every published result.
	mu    sync.Mutex
	shown []T
	taken int // consumer only: the results of the batch it has delivered already
}

// errAt is the error of the result at index i of a batch.
type errAt struct {
	i   int
	err error
}

// reserve makes room in b for k more results when it has too little, growing it to at least
// least results (see firstBatch), and each time after that [growth]-fold, at most to limit
// results (the most a batch takes). A batch of small results gets its full size at once; one of
// large results holds at most [growth] times the results it was given, and reaches its working
// size in two or three claims (a steady stream fills every batch), then stays there.
func (b *batch[T]) reserve(k, least, limit int) {
	if len(b.vals)+k <= cap(b.vals) {
		return
	}
	size := min(limit, max(least, growth*cap(b.vals)))
	vals := make([]T, len(b.vals), max(len(b.vals)+k, size))
	copy(vals, b.vals)
	b.mu.Lock()
	b.vals, b.shown = vals, vals
	b.mu.Unlock()
}

// growth is how many times larger a batch grows when a claim does not fit.
const growth = 16

// firstBatch is how many bytes of results a batch has room for when it is first used (or as
// many as a batch takes, when that is less): 4 KiB, 16 results of 256 bytes, the whole batch of
// results of 16 bytes or less. A worker makes its batches when it first claims items, so a run
// with many workers and few items costs little for the workers that find none.
const firstBatch = 4 << 10

// firstResults is how many results of type T fit in firstBatch bytes (at least one).
func firstResults[T any]() int {
	size := int(unsafe.Sizeof(*new(T)))
	if size == 0 {
		return chunkSize
	}
	return max(1, firstBatch/size)
}

// add appends a failed item's result.
func (b *batch[T]) add(v T, err error) {
	b.mu.Lock()
	b.errs = append(b.errs, errAt{i: len(b.vals), err: err})
	b.mu.Unlock()
	b.vals = append(b.vals, v)
}

// batchTime is about how long a worker works on one batch before it hands the batch over: long
// enough to amortise the hand-over on cheap items, short enough that a finished result does not
// wait long for its batch-mates. A worker learns its items' service time and claims about this
// much work at a time, so slow items go one by one and are spread over the idle workers.
const batchTime = 20 * time.Microsecond

type worker[In, Out any] struct {
	r *run[In, Out]
	// cur is the batch the worker is filling, nil between batches: the consumer looks at it to
	// take the finished part of a batch held up by a long item (see handover.go).
	cur atomic.Pointer[batch[Out]]
	// sent counts the batches the worker has sent; the consumer counts those it received, and
	// takes early from the worker's batch in progress only when it has every batch sent before,
	// so that in an unordered run a worker's results still come in the order it finished them.
	sent  atomic.Uint64
	free  chan *batch[Out]
	max   int                // most items in one batch
	least int                // results a batch has room for at first: see firstBatch
	limit int                // most items in the next claim: about batchTime of work, learned
	st    engine.ServiceTime // estimate of an item's service time
	// resume is where a replacement worker goes on when the work func called runtime.Goexit.
	resume resumePoint[In, Out]
}

// resumePoint is a run of items a worker was processing when its goroutine ended in
// runtime.Goexit: items next to hi of c are still to run into b, and lo to hi to release.
type resumePoint[In, Out any] struct {
	b            *batch[Out]
	c            *chunk[In]
	lo, next, hi int
	began        time.Duration
}

func newWorker[In, Out any](r *run[In, Out], i int) *worker[In, Out] {
	w := &worker[In, Out]{r: r, free: make(chan *batch[Out], 2), max: r.o.claimLimit(), limit: 1, least: firstResults[Out]()}
	for range cap(w.free) {
		w.free <- &batch[Out]{owner: w.free, worker: i}
	}
	return w
}

// loop takes runs of items from the feed and processes them until the feed is drained or the run
// stops.
func (w *worker[In, Out]) loop() {
	defer w.leave()
	w.serve()
}

// leave ends the worker's goroutine. The last worker to leave closes the results channel. A
// worker whose work func called runtime.Goexit is replaced instead: its goroutine is ending,
// and a new one takes over its batch and goes on where it stopped.
func (w *worker[In, Out]) leave() {
	if rp := w.resume; rp.b != nil {
		w.resume = resumePoint[In, Out]{}
		w.r.wg.Go(func() { // owned by the run, as the worker it replaces
			defer w.leave()
			w.process(rp.b, rp.c, rp.lo, rp.next, rp.hi)
			if w.fill(rp.b, rp.c, rp.lo, rp.hi, rp.began) {
				w.serve()
			}
		})
		return
	}
	if w.r.live.Add(-1) == 0 {
		close(w.r.out)
	}
}

// serve is the worker's life: take a free batch, claim items, fill the batch and hand it over.
func (w *worker[In, Out]) serve() {
	r := w.r
	for !r.feed.stopping.Load() {
		b, ok := w.batch()
		if !ok {
			return
		}
		limit := w.claimable(w.limit)
		if limit == 0 {
			w.free <- b
			return
		}
		r.feed.gather(limit)
		c, lo, hi, ok := r.feed.claim(limit, r.o.workers)
		if hi-lo < limit {
			w.unclaim(limit - (hi - lo))
		}
		if !ok {
			w.free <- b
			if !r.feed.wait() {
				return
			}
			continue
		}
		b.reserve(hi-lo, w.least, w.max)
		w.open(b, c.base+uint64(lo))
		began := r.clock.now()
		w.process(b, c, lo, lo, hi)
		if !w.fill(b, c, lo, hi, began) {
			return
		}
	}
}

// fill accounts for the processed run lo to hi of c and, while b has room, less than batchTime
// has passed since began, and more items are published that follow on from b's (any items, in
// an unordered run), claims and processes them too, so that a worker that keeps finding a few
// items at a time still hands its results over in full batches. It never waits for items. It
// hands b over and reports false when the run stopped.
func (w *worker[In, Out]) fill(b *batch[Out], c *chunk[In], lo, hi int, began time.Duration) bool {
	r := w.r
	for {
		b.n += hi - lo
		r.feed.release(c, hi-lo)
		now := r.clock.now()
		took := now - began
		w.learn(took, hi-lo)
		if b.n >= w.max || took >= batchTime {
			break
		}
		limit := min(w.limit, w.max-b.n)
		if w.r.window != nil {
			limit = w.r.window.tryTake(limit) // never wait holding results: hand them over
		}
		if limit == 0 {
			break
		}
		var ok bool
		c, lo, hi, ok = r.feed.claim(limit, r.o.workers)
		if hi-lo < limit {
			w.unclaim(limit - (hi - lo))
		}
		if !ok {
			break
		}
		if r.o.ordered && c.base+uint64(lo) != b.base+uint64(b.n) {
			if !w.send(b) {
				r.feed.release(c, hi-lo)
				return false
			}
			if b, ok = w.batch(); !ok {
				r.feed.release(c, hi-lo)
				return false
			}
			w.open(b, c.base+uint64(lo))
			now = r.clock.now() // w.batch may have waited for the consumer: not the items' time
		}
		b.reserve(hi-lo, w.least, w.max)
		began = now // the claim's own cost counts as the next run's work: one clock read a claim
		w.process(b, c, lo, lo, hi)
	}
	return w.send(b)
}

// learn updates the estimate of an item's service time (see engine.ServiceTime: one stalled claim
// moves it by at most 1.25x), and from it the size of the next claim: about batchTime of work, at
// least one item, at most a batch.
func (w *worker[In, Out]) learn(took time.Duration, items int) {
	if items == 0 {
		return
	}
	w.st.Learn(took, items)
	w.limit = w.st.Fit(batchTime, w.max)
}

// claimable takes credits of the reorder window for up to k items, in an ordered run, waiting
// for one if need be, and returns how many items may be claimed: k in an unordered run. It
// returns 0 when the run stops while it waits.
func (w *worker[In, Out]) claimable(k int) int {
	if w.r.window == nil {
		return k
	}
	return w.r.window.take(k, w.r.quit)
}

// unclaim gives back credits taken for items that were not claimed.
func (w *worker[In, Out]) unclaim(k int) {
	if w.r.window != nil {
		w.r.window.give(k)
	}
}

func (w *worker[In, Out]) batch() (*batch[Out], bool) {
	select {
	case b := <-w.free:
		return b, true
	case <-w.r.quit:
		return nil, false
	}
}

// open makes b, whose first item is base, the batch the worker fills: from now on the consumer
// may take its published results early.
func (w *worker[In, Out]) open(b *batch[Out], base uint64) {
	b.base = base
	w.cur.Store(b) // after base: the consumer reads base once it has loaded cur
}

// send hands b over to the consumer. b stops being the batch the worker fills first, so the
// consumer, once it has received b, never finds it in cur again before the worker reopens it.
func (w *worker[In, Out]) send(b *batch[Out]) bool {
	w.cur.Store(nil)
	w.sent.Add(1) // before the send, and before the next batch is stored in cur
	select {
	case w.r.out <- b:
		return true
	case <-w.r.quit:
		return false
	}
}

// process runs items from to hi of c into b (lo is where the claim began), carrying on after
// an item whose work func panicked.
func (w *worker[In, Out]) process(b *batch[Out], c *chunk[In], lo, from, hi int) {
	for i := from; i < hi; {
		i = w.processFrom(b, c, lo, i, hi)
	}
}

// processFrom runs items i to hi of c and returns hi, or the index after an item whose work func
// panicked. One guard (engine.Guard: one deferred recover) covers the whole run of items, so a run
// costs one defer, not one an item. A work func that calls runtime.Goexit fails its item with [ErrGoexit]; the goroutine
// cannot be saved, so the worker records where it was for its replacement (see leave).
func (w *worker[In, Out]) processFrom(b *batch[Out], c *chunk[In], lo, i, hi int) (next int) {
	// Every item gets one entry in b.vals when it ends (result, error or skip), so item j's entry
	// is at start+j, and the item that panicked is the one whose entry is missing.
	start := len(b.vals) - i
	returned := engine.Guard(func() {
		if w.r.o.failFast {
			for ; i < hi; i++ {
				w.gated(b, c.items[i:i+1])
			}
		} else {
			w.items(b, c.items[i:hi])
		}
	}, func(err error) {
		j := len(b.vals) - start
		w.failedItem(b, c.items[j], err)
		next = j + 1
		if err == panics.ErrGoexit {
			w.resume = resumePoint[In, Out]{b: b, c: c, lo: lo, next: next, hi: hi, began: w.r.clock.now()}
		}
	})
	if returned {
		return hi
	}
	return next
}

// gated runs items under the read side of the run's gate, in a fail-fast run (see stop.go).
func (w *worker[In, Out]) gated(b *batch[Out], vs []In) {
	w.r.gate.RLock()
	defer w.r.gate.RUnlock()
	w.items(b, vs)
}

// items runs the work func on each of vs into b, in order, or gives an item the cause as its
// error once the run's context has ended (see runCtx): no item starts after that. This is the
// one place the work func is called, and the loop has no call per item but the work func's.
// Before each item but a batch's first, it publishes the results before it (one atomic store),
// so that an item that runs long does not hold them back (see handover.go).
func (w *worker[In, Out]) items(b *batch[Out], vs []In) {
	r := w.r
	for _, v := range vs {
		if k := len(b.vals); k > 0 {
			// Publish the results before v: if v runs long, the consumer takes them early.
			b.pub.Store(int32(k))
			if b.mark.Load() == 0 {
				r.hold(&b.mark)
			}
		}
		if r.done() {
			w.skip(b, v)
			continue
		}
		out, err := r.fn(r.ctx, v)
		if err != nil {
			w.failedItem(b, v, err)
			continue
		}
		b.vals = append(b.vals, out)
	}
}

// skip records the result of item v, not run because the run's context has ended: the cause,
// as the run's first error when it fails fast, and v's result (see run.skipped) in b.
func (w *worker[In, Out]) skip(b *batch[Out], v In) {
	cause := w.r.cause()
	if w.r.o.failFast {
		w.r.fail(v, cause)
	}
	b.add(w.r.skipped(v, cause))
}

// failedItem records item v's error: in b, and as the run's first error when it fails fast.
func (w *worker[In, Out]) failedItem(b *batch[Out], v In, err error) {
	if w.r.o.failFast {
		w.r.fail(v, err)
	}
	b.add(w.r.failed(v, err))
}
