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
	}()
	ok := true
	if r.o.ordered {
		ok = r.consumeOrdered(yield)
	} else {
		ok = r.consumeUnordered(yield)
	}
	if ok {
		r.tail(yield)
		ended = true
	}
}

func (r *run[In, Out]) consumeUnordered(yield func(Out, error) bool) bool {
	for b := range r.out {
		if !r.emit(b, yield) {
			return false
		}
	}
	return true
}

// consumeOrdered holds back batches that arrive ahead of the next sequence number; there are at
// most two a worker, so a linear scan finds the next one.
func (r *run[In, Out]) consumeOrdered(yield func(Out, error) bool) bool {
	var next uint64
	pending := make([]*batch[Out], 0, 2*r.o.workers)
	for b := range r.out {
		pending = append(pending, b)
		for i := 0; i < len(pending); {
			if pending[i].base != next {
				i++
				continue
			}
			b := pending[i]
			pending = append(pending[:i], pending[i+1:]...)
			next += uint64(b.n)
			if !r.emit(b, yield) {
				return false
			}
			i = 0
		}
	}
	return true
}

// emit yields the results of b and gives b back to its worker (and, in an ordered run, b's items
// back to the reorder window). It reports false when the consumer stopped or a fail-fast run
// failed.
func (r *run[In, Out]) emit(b *batch[Out], yield func(Out, error) bool) bool {
	errs := b.errs
	for i, v := range b.vals {
		var err error
		if len(errs) > 0 && errs[0].i == i {
			err, errs = errs[0].err, errs[1:]
			r.maybeRepanic(err)
			if r.o.failFast {
				first := r.firstError()
				yield(first.Value, first.Err)
				return false
			}
		}
		if !yield(v, err) {
			return false
		}
	}
	if r.window != nil {
		r.window.give(b.n)
	}
	clear(b.vals)
	clear(b.errs)
	b.vals, b.errs, b.n = b.vals[:0], b.errs[:0], 0
	b.owner <- b // never blocks: the owner's channel has room for all its batches
	return true
}
