package group

import (
	"errors"
	"fmt"
	"iter"
)

// Results returns the group's results as a sequence of (value, error) pairs: for every accepted
// item, the work func's value, or the item as it was submitted with its error. They come in
// completion order, or in submission order for an [Ordered] or [Serial] group. The sequence waits
// for results; it ends once the group is closed (or reclaimed) and every result has been read.
// Breaking out of the range leaves the unread results in the group for a later range; they keep
// their place in the window until they are read.
//
// One goroutine at a time may range over a group's results: a second range that starts while
// one is under way panics, naming the group.
func (g *Group[K, T]) Results() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		if !g.reading.CompareAndSwap(false, true) {
			panic(fmt.Sprintf("group %v: Results: another goroutine is ranging over this group's results; one reader at a time", g.key))
		}
		defer g.reading.Store(false)
		for {
			out, finished := g.take()
			for k, r := range out {
				g.maybeRepanic(r.err)
				if !yield(r.v, r.err) {
					g.putBack(k + 1)
					return
				}
			}
			if finished {
				return
			}
			if len(out) == 0 {
				g.wait()
			}
		}
	}
}

// take frees the slots of the results the reader has read since the last take, and moves up to a
// buffer's worth of ready results out of the window into the reader's hands; their slots stay
// taken until they are read, so the window bounds what the reader holds too. It reports finished
// once the group is closed and every result has been read.
func (g *Group[K, T]) take() ([]result[T], bool) {
	g.mu.Lock()
	wasFull := len(g.free) == 0
	g.free = append(g.free, g.lent...)
	g.lent = g.lent[:0]
	out := append(g.out[:0], g.unread...)
	g.lent = append(g.lent, g.unreadIdx()...)
	g.unread = g.unread[:0]
	for len(out) < cap(out) {
		i, ok := g.ready()
		if !ok {
			break
		}
		s := &g.slots[i]
		out = append(out, result[T]{s.v, s.err})
		*s = slot[T]{}
		g.lent = append(g.lent, i)
	}
	g.out = out
	finished := len(out) == 0 && g.closed && len(g.free) == len(g.slots)
	room := wasFull && len(g.free) > 0
	g.mu.Unlock()
	if room {
		signal(g.space)
	}
	return out, finished
}

// ready pops the index of the next result to read, if one is ready. g.mu is held.
func (g *Group[K, T]) ready() (int, bool) {
	if g.o.ordered {
		if g.order.len() == 0 || !g.slots[g.order.peek()].done {
			return 0, false
		}
		return g.order.pop(), true
	}
	if g.done.len() == 0 {
		return 0, false
	}
	return g.done.pop(), true
}

// putBack is called when the reader broke out of its range after reading the first k results it
// took: their slots are freed, and the rest are handed to the next range first, keeping theirs.
func (g *Group[K, T]) putBack(k int) {
	g.mu.Lock()
	wasFull := len(g.free) == 0
	g.free = append(g.free, g.lent[:k]...)
	g.unread = append(g.unread[:0], g.out[k:]...)
	g.unreadSlots = append(g.unreadSlots[:0], g.lent[k:]...)
	g.lent = g.lent[:0]
	room := wasFull && len(g.free) > 0
	g.mu.Unlock()
	if room {
		signal(g.space)
	}
}

// unreadIdx returns the slots of the results put back, once, for take. g.mu is held.
func (g *Group[K, T]) unreadIdx() []int {
	s := g.unreadSlots
	g.unreadSlots = g.unreadSlots[:0]
	return s
}

// maybeRepanic re-raises a captured panic on the reader's goroutine, for a [Repanic] group.
func (g *Group[K, T]) maybeRepanic(err error) {
	if !g.o.repanic || err == nil {
		return
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		panic(pe)
	}
}

// wait blocks the reader until a worker has published results or the group is finished. It says
// so first, so that the worker that wakes it can yield its processor to it: on a busy router the
// reader would otherwise wait for the worker's time slice to end (milliseconds) before it could
// read a result that is already there.
func (g *Group[K, T]) wait() {
	g.waiting.Store(true)
	<-g.notify
	g.waiting.Store(false)
}
