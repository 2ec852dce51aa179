package pipe

import (
	"context"
	"sync"
)

// slotOutputs is the most outputs an item of an ordered stage keeps while it waits for its turn;
// an item that emits more waits in emit until the collector has taken them.
const slotOutputs = DefaultBuffer

// slot holds the outputs of one item of an ordered stage until their turn comes. The worker of
// the item and the collector take turns with outs: the worker fills it and sends a token on
// ready; the collector sends its contents on, and, unless last was set, gives it back with a
// token on taken.
type slot[Out any] struct {
	outs  []Out
	last  bool          // outs ends the item's outputs
	ready chan struct{} // cap 1: worker -> collector, outs may be read
	taken chan struct{} // cap 1: collector -> worker, outs may be filled again
}

type job[In any] struct {
	seq uint64
	v   In
}

// orderedStage runs fn on several workers and emits the outputs in input order.
//
// High-level idea: a dispatcher numbers the items and hands them to the workers, taking one of
// o.window window tokens for each; a worker writes an item's outputs into the slot of its number
// in a ring of o.window slots and marks it ready; the collector waits for the slots in number
// order, emits their outputs and gives the token back. So at most o.window items are in the stage
// at once, and a slow item holds back a bounded number of finished ones. An item with more than
// slotOutputs outputs hands them over in parts, each waiting for the collector: the item whose
// turn it is is always held by a worker (items are taken in order), so this cannot deadlock.
func orderedStage[In, Out any](pt *part, in <-chan In, out chan Out, o options, fn func(context.Context, In, func(Out) bool) error) {
	ring := make([]slot[Out], o.window)
	for i := range ring {
		ring[i].ready = make(chan struct{}, 1)
		ring[i].taken = make(chan struct{}, 1)
	}
	window := make(chan struct{}, o.window)
	jobs := make(chan job[In], o.workers)
	total := make(chan uint64, 1)
	pt.spawn(func() { dispatch(pt.p, in, jobs, window, total) })
	var wg sync.WaitGroup
	for range o.workers {
		wg.Add(1)
		pt.spawn(func() {
			defer wg.Done()
			orderedWorker(pt, jobs, ring, fn)
		})
	}
	pt.spawn(func() {
		defer close(out)
		collect(pt.p, out, ring, window, total)
	})
}

func dispatch[In any](p *Pipeline, in <-chan In, jobs chan<- job[In], window chan struct{}, total chan<- uint64) {
	defer close(jobs)
	var seq uint64
	for v := range receive(p, in) {
		if !send(p, window, struct{}{}) || !send(p, jobs, job[In]{seq, v}) {
			return
		}
		seq++
	}
	total <- seq
}

// orderedWorker runs fn on the jobs it takes, each writing into its item's slot. Once the
// pipeline has ended, emit reports false and the worker leaves the slot alone: the collector has
// stopped, and may still hold a part of the slot's outputs.
func orderedWorker[In, Out any](pt *part, jobs <-chan job[In], ring []slot[Out], fn func(context.Context, In, func(Out) bool) error) {
	p := pt.p
	var s *slot[Out] // the slot of the item in hand: one emit func serves every item
	emit := func(v Out) bool {
		if p.ctx.Err() != nil {
			return false
		}
		if len(s.outs) == slotOutputs {
			s.ready <- struct{}{}
			select {
			case <-s.taken:
			case <-p.ctx.Done():
				return false
			}
		}
		s.outs = append(s.outs, v)
		return true
	}
	for j := range receive(p, jobs) {
		s = &ring[j.seq%uint64(len(ring))]
		if err := fn(p.ctx, j.v, emit); err != nil {
			pt.fail(err)
			return
		}
		if p.ctx.Err() != nil {
			return
		}
		s.last = true
		s.ready <- struct{}{}
	}
}

func collect[Out any](p *Pipeline, out chan<- Out, ring []slot[Out], window <-chan struct{}, total <-chan uint64) {
	end := ^uint64(0)
	for seq := uint64(0); seq != end; {
		s := &ring[seq%uint64(len(ring))]
		select {
		case <-s.ready:
		case end = <-total:
			continue
		case <-p.ctx.Done():
			return
		}
		for _, v := range s.outs {
			if !send(p, out, v) {
				return
			}
		}
		clear(s.outs)
		s.outs = s.outs[:0]
		if !s.last {
			s.taken <- struct{}{}
			continue
		}
		s.last = false
		<-window
		seq++
	}
}
