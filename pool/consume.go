package pool

// consume delivers the run's results to yield on the consumer's goroutine and, whatever way it
// returns (the results end, yield stops, a panic is re-raised or raised by the loop's body),
// stops the run and waits for every goroutine of it: with the cause ErrFinished when every
// result was delivered, ErrStopped otherwise.
func (r *run[In, Out]) consume(yield func(Out, error) bool) {
	ended := false
	defer func() {
		if ended {
			r.finish(ErrFinished)
		} else {
			r.finish(ErrStopped)
		}
		r.alarm.Stop()
	}()
	c := consumer[In, Out]{r: r, yield: yield}
	if r.o.ordered {
		c.pending = make([]*batch[Out], 0, 2*r.o.workers)
	} else {
		c.got = make([]uint64, r.o.workers)
	}
	if c.results() {
		r.tail(yield)
		ended = true
	}
}

// results delivers every batch the workers hand over, and the finished part of batches held up
// by a long item (see handover.go). It reports false when the consumer stopped or a fail-fast
// run failed.
func (c *consumer[In, Out]) results() bool {
	for {
		b, ok, alive := c.receive()
		if !alive {
			return false
		}
		if !ok {
			return true
		}
		if !c.deliver(b) {
			return false
		}
		if c.due() && !c.look() {
			return false
		}
	}
}

// deliver delivers b, or in an ordered run holds it back until it holds the next result; there
// are at most two batches a worker, so a linear scan finds the next one.
func (c *consumer[In, Out]) deliver(b *batch[Out]) bool {
	if !c.r.o.ordered {
		c.got[b.worker]++
		return c.emit(b)
	}
	c.pending = append(c.pending, b)
	for i := 0; i < len(c.pending); {
		b := c.pending[i]
		if b.base+uint64(b.taken) != c.next {
			i++
			continue
		}
		c.pending = append(c.pending[:i], c.pending[i+1:]...)
		if !c.emit(b) {
			return false
		}
		i = 0
	}
	return true
}

// emit yields the results of b not delivered early and gives b back to its worker (and, in an
// ordered run, b's items back to the reorder window). It reports false when the consumer stopped
// or a fail-fast run failed.
func (c *consumer[In, Out]) emit(b *batch[Out]) bool {
	r := c.r
	if !c.yieldAll(b.vals[b.taken:], b.errs, b.taken) {
		return false
	}
	k := b.n - b.taken
	c.next += uint64(k)
	if r.window != nil {
		r.window.give(k)
	}
	if b.mark.Swap(0) == 1 {
		r.held.Add(-1)
	}
	clear(b.vals)
	clear(b.errs)
	b.vals, b.errs, b.n, b.taken = b.vals[:0], b.errs[:0], 0, 0
	b.pub.Store(0)
	b.owner <- b // never blocks: the owner's channel has room for all its batches
	return true
}

// yieldAll yields vals, the results from index from of a batch whose errors are errs. It reports
// false when the consumer stopped or a fail-fast run failed.
func (c *consumer[In, Out]) yieldAll(vals []Out, errs []errAt, from int) bool {
	r := c.r
	for len(errs) > 0 && errs[0].i < from {
		errs = errs[1:]
	}
	for k, v := range vals {
		var err error
		if len(errs) > 0 && errs[0].i == from+k {
			err, errs = errs[0].err, errs[1:]
			r.maybeRepanic(err)
			if r.o.failFast {
				first := r.firstError()
				c.yield(first.Value, first.Err)
				return false
			}
		}
		if !c.yield(v, err) {
			return false
		}
	}
	return true
}
