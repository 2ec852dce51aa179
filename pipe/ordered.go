package pipe

import (
	"context"
	"sync"
)

// slot holds the outputs of one item of an ordered stage until their turn comes.
type slot[Out any] struct {
	outs  []Out
	ready chan struct{} // one token when outs is complete
}

type job[In any] struct {
	seq uint64
	v   In
}

// orderedStage runs fn on several workers and emits the outputs in input order.
//
// High-level idea: a dispatcher numbers the items and hands them to the workers, taking one of
// o.buffer window tokens for each; a worker writes an item's outputs into the slot of its number
// in a ring of o.buffer slots and marks it ready; the collector waits for the slots in number
// order, emits their outputs and gives the token back. So at most o.buffer items are in the stage
// at once, and a slow item holds back a bounded number of finished ones.
func orderedStage[In, Out any](p *Pipeline, in <-chan In, out chan Out, o options, fn func(context.Context, In, func(Out) bool) error) {
	ring := make([]slot[Out], o.buffer)
	for i := range ring {
		ring[i].ready = make(chan struct{}, 1)
	}
	window := make(chan struct{}, o.buffer)
	jobs := make(chan job[In], o.workers)
	total := make(chan uint64, 1)
	p.spawn(func() { dispatch(p, in, jobs, window, total) })
	var wg sync.WaitGroup
	for range o.workers {
		wg.Add(1)
		p.spawn(func() {
			defer wg.Done()
			orderedWorker(p, jobs, ring, fn)
		})
	}
	p.spawn(func() {
		defer close(out)
		collect(p, out, ring, window, total)
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

func orderedWorker[In, Out any](p *Pipeline, jobs <-chan job[In], ring []slot[Out], fn func(context.Context, In, func(Out) bool) error) {
	for j := range receive(p, jobs) {
		s := &ring[j.seq%uint64(len(ring))]
		emit := func(v Out) bool { s.outs = append(s.outs, v); return true }
		if err := fn(p.ctx, j.v, emit); err != nil {
			p.fail(err)
			return
		}
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
		<-window
		seq++
	}
}
