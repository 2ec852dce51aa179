package pool

import "github.com/stagecoach-go/stagecoach/internal/panics"

// batch carries the results of one claim (a run of consecutive items) from a worker to the
// consumer. Each worker owns two and gets them back from the consumer, so the steady state
// allocates nothing, and in an ordered run the worker holding the item the consumer waits for
// always has a batch to put it in (its earlier batches were all delivered).
type batch[T any] struct {
	base  uint64 // sequence number of the first item
	n     int    // items claimed into the batch: the results, and in a failed run, items skipped
	vals  []T
	errs  []errAt // the results that are errors, by index into vals; usually empty
	owner chan *batch[T]
}

// errAt is the error of the result at index i of a batch.
type errAt struct {
	i   int
	err error
}

// add appends a failed item's result.
func (b *batch[T]) add(v T, err error) {
	b.errs = append(b.errs, errAt{i: len(b.vals), err: err})
	b.vals = append(b.vals, v)
}

type worker[T any] struct {
	r     *run[T]
	free  chan *batch[T]
	limit int // most items in one batch
}

func newWorker[T any](r *run[T], _ int) *worker[T] {
	w := &worker[T]{r: r, free: make(chan *batch[T], 2), limit: r.o.claimLimit()}
	for range cap(w.free) {
		w.free <- &batch[T]{vals: make([]T, 0, r.o.claimLimit()), owner: w.free}
	}
	return w
}

// loop takes runs of items from the feed and processes them until the feed is drained or the run
// stops. The last worker to leave closes the results channel.
func (w *worker[T]) loop() {
	defer w.exit()
	r := w.r
	for !r.feed.stopping.Load() {
		b, ok := w.batch()
		if !ok {
			return
		}
		r.feed.gather(w.limit)
		c, lo, hi, ok := r.feed.claim(w.limit, r.o.workers)
		if !ok {
			w.free <- b
			if !r.feed.wait() {
				return
			}
			continue
		}
		b.base = c.base + uint64(lo)
		if !w.fill(b, c, lo, hi) {
			return
		}
	}
}

// fill processes a claimed run of items into b and, while b has room and more items are
// published that follow on from b's (any items, in an unordered run), claims and processes them
// too, so that a worker that keeps finding a few items at a time still hands its results over in
// full batches. It never waits for items. It reports false when the run stopped.
func (w *worker[T]) fill(b *batch[T], c *chunk[T], lo, hi int) bool {
	r := w.r
	for {
		w.process(c, lo, hi, b)
		b.n += hi - lo
		r.feed.release(c, hi-lo)
		if b.n >= w.limit {
			break
		}
		var ok bool
		c, lo, hi, ok = r.feed.claim(w.limit-b.n, r.o.workers)
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
			b.base = c.base + uint64(lo)
		}
	}
	return w.send(b)
}

func (w *worker[T]) exit() {
	if w.r.live.Add(-1) == 0 {
		close(w.r.out)
	}
}

func (w *worker[T]) batch() (*batch[T], bool) {
	select {
	case b := <-w.free:
		return b, true
	case <-w.r.quit:
		return nil, false
	}
}

func (w *worker[T]) send(b *batch[T]) bool {
	select {
	case w.r.out <- b:
		return true
	case <-w.r.quit:
		return false
	}
}

// process runs items lo to hi of c into b, carrying on after an item whose work func panicked.
func (w *worker[T]) process(c *chunk[T], lo, hi int, b *batch[T]) {
	for i := lo; i < hi; {
		i = w.processFrom(c, i, hi, b)
	}
}

// processFrom runs items i to hi of c and returns hi, or the index after an item whose work func
// panicked. One deferred recover covers the whole run of items, so a run costs one defer, not one
// an item.
func (w *worker[T]) processFrom(c *chunk[T], i, hi int, b *batch[T]) (next int) {
	r := w.r
	defer func() {
		if v := recover(); v != nil {
			w.failed(b, c.items[i], panics.New(v))
			next = i + 1
		}
	}()
	for ; i < hi; i++ {
		v := c.items[i]
		if r.o.failFast {
			w.runGated(b, v)
			continue
		}
		if r.done.Load() {
			b.add(v, r.cause())
			continue
		}
		out, err := r.fn(r.ctx, v)
		if err != nil {
			w.failed(b, v, err)
			continue
		}
		b.vals = append(b.vals, out)
	}
	return hi
}

// failed records item v's error: in b, and as the run's first error when it fails fast.
func (w *worker[T]) failed(b *batch[T], v T, err error) {
	if w.r.o.failFast {
		w.r.fail(v, err)
	}
	b.add(v, err)
}

// runGated runs v in a fail-fast run: it decides to start v and runs it under the read side of
// the run's gate, so that the consumer, which takes the write side before it delivers the first
// error, knows that every item started before the error was recorded has finished, and that no
// item starts after it.
func (w *worker[T]) runGated(b *batch[T], v T) {
	r := w.r
	r.gate.RLock()
	defer r.gate.RUnlock()
	if r.done.Load() {
		return
	}
	out, err := r.fn(r.ctx, v)
	if err != nil {
		w.failed(b, v, err)
		return
	}
	b.vals = append(b.vals, out)
}
