package group

import (
	"fmt"
	"runtime"
	"time"
)

// batch is a worker's run of items from one group.
type batch[T any] struct {
	idx  []int
	vals []T
	errs []error
	took time.Duration
	n    int // batches run by this worker, to time one in timeEvery
}

// timeEvery: a worker times one batch in this many, to keep clock reads off the hot path.
const timeEvery = 4

// claim takes the next run of g's items for a worker, at most g's quantum (one for a serial
// group), and puts g back in the router's queue if it has more to hand out. It reports false if
// g has nothing to hand out now.
func (g *Group[K, T]) claim(b *batch[T]) bool {
	g.mu.Lock()
	if g.pending.len() == 0 || (g.o.serial && g.running > 0) {
		if g.running == 0 || !g.o.serial {
			g.scheduled = false
		}
		g.mu.Unlock()
		return false
	}
	k := min(g.quantum, g.pending.len())
	if g.o.serial {
		k = 1
	}
	b.idx, b.vals, b.errs = b.idx[:0], b.vals[:0], b.errs[:0]
	for range k {
		i := g.pending.pop()
		b.idx = append(b.idx, i)
		b.vals = append(b.vals, g.slots[i].v)
		b.errs = append(b.errs, nil)
	}
	g.running += k
	g.count(k, 0, 0)
	requeue := !g.o.serial && g.pending.len() > 0
	if !requeue && !g.o.serial {
		g.scheduled = false
	}
	g.mu.Unlock()
	if requeue {
		g.r.schedule(g)
	}
	return true
}

// run processes the batch with no lock held.
func (g *Group[K, T]) run(b *batch[T]) {
	b.n++
	timed := b.n%timeEvery == 1 || g.o.serial
	var began time.Time
	if timed {
		began = time.Now()
	}
	for j, v := range b.vals {
		out, err := g.call(v)
		if err != nil {
			out, err = v, fmt.Errorf("group %v: %w", g.key, err)
		}
		b.vals[j], b.errs[j] = out, err
	}
	b.took = -1
	if timed {
		b.took = time.Since(began)
	}
}

// publish stores the batch's results in their slots for the reader, and learns from its timing.
func (g *Group[K, T]) publish(b *batch[T]) {
	failed := 0
	g.mu.Lock()
	for j, i := range b.idx {
		g.slots[i].v, g.slots[i].err = b.vals[j], b.errs[j]
		if b.errs[j] != nil {
			failed++
		}
		g.finish(i)
	}
	g.running -= len(b.idx)
	if b.took >= 0 {
		g.learn(b.took, len(b.idx))
	}
	requeue := g.o.serial && g.pending.len() > 0
	if g.o.serial && !requeue {
		g.scheduled = false
	}
	idle := g.idle()
	g.count(0, len(b.idx)-failed, failed) // before the reader can see the results
	g.mu.Unlock()
	signal(g.notify)
	if g.waiting.Load() {
		runtime.Gosched() // let the woken reader run now, not at the end of this time slice
	}
	if requeue {
		g.r.schedule(g)
	}
	if idle {
		g.r.retire(g)
	}
}

// learn updates the moving average of an item's service time and the quantum it gives. g.mu is
// held.
func (g *Group[K, T]) learn(took time.Duration, items int) {
	per := took.Nanoseconds()/int64(items) + 1
	if g.avgNs == 0 {
		g.avgNs = per
	} else {
		g.avgNs = (3*g.avgNs + per) / 4
	}
	g.quantum = int(max(1, min(maxQuantum, quantumTime.Nanoseconds()/g.avgNs)))
}
