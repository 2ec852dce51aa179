package pool

import "errors"

// consume delivers the run's results to yield on the consumer's goroutine and, whatever way it
// returns (the results end, yield stops, a panic is re-raised), stops the run and waits for every
// goroutine of it.
func (r *run[T]) consume(yield func(T, error) bool) {
	defer r.finish()
	ok := true
	if r.o.ordered {
		ok = r.consumeOrdered(yield)
	} else {
		ok = r.consumeUnordered(yield)
	}
	if ok {
		r.tail(yield)
	}
}

func (r *run[T]) consumeUnordered(yield func(T, error) bool) bool {
	for b := range r.out {
		if !r.emit(b, yield) {
			return false
		}
	}
	return true
}

// consumeOrdered holds back batches that arrive ahead of the next sequence number; there are at
// most two a worker, so a linear scan finds the next one.
func (r *run[T]) consumeOrdered(yield func(T, error) bool) bool {
	var next uint64
	pending := make([]*batch[T], 0, 2*r.o.workers)
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

// emit yields the results of b and gives b back to its worker. It reports false when the
// consumer stopped or a fail-fast run failed.
func (r *run[T]) emit(b *batch[T], yield func(T, error) bool) bool {
	errs := b.errs
	for i, v := range b.vals {
		var err error
		if len(errs) > 0 && errs[0].i == i {
			err, errs = errs[0].err, errs[1:]
			r.maybeRepanic(err)
			if r.o.failFast {
				r.stop(errConsumerStopped)
				// A barrier: once the write side is ours, every item started before the error
				// has finished, and none starts any more.
				r.gate.Lock()
				first := r.first.Load()
				r.gate.Unlock()
				yield(first.Value, first.Err)
				return false
			}
		}
		if !yield(v, err) {
			return false
		}
	}
	clear(b.vals)
	clear(b.errs)
	b.vals, b.errs, b.n = b.vals[:0], b.errs[:0], 0
	b.owner <- b // never blocks: the owner's channel has room for all its batches
	return true
}

// maybeRepanic re-raises a captured panic on the consumer's goroutine when the run asked for
// it, after every goroutine of the run has ended.
func (r *run[T]) maybeRepanic(err error) {
	var pe *PanicError
	if r.o.repanic && errors.As(err, &pe) {
		r.finish()
		panic(pe)
	}
}

// tail yields the run's last word once every worker has ended: a fail-fast run's first error, or
// the cause when the run's context ended before the source did.
func (r *run[T]) tail(yield func(T, error) bool) {
	if first := r.first.Load(); first != nil {
		yield(first.Value, first.Err)
		return
	}
	if r.cut.Load() {
		var zero T
		yield(zero, r.cause())
	}
}

// finish stops the run and waits for every goroutine of it. It can be called more than once.
func (r *run[T]) finish() {
	r.stop(errConsumerStopped)
	r.wg.Wait()
	if !r.unhook() {
		<-r.hookDone
	}
}
