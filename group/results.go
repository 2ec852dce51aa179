package group

import "iter"

// Results returns the group's results as a sequence of (value, error) pairs: for every accepted
// item, the work func's value, or the item as it was submitted with its error. They come in
// completion order, or in submission order for an [Ordered] or [Serial] group. The sequence waits
// for results; it ends once the group is closed (or reclaimed) and every result has been read.
// Breaking out of the range leaves the unread results in the group for a later range. One
// goroutine at a time may range over a group's results.
func (g *Group[K, T]) Results() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			out, finished := g.take()
			for k, r := range out {
				if !yield(r.v, r.err) {
					g.putBack(out[k+1:])
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

// take moves up to a buffer's worth of ready results out of the window, freeing their slots. It
// reports finished once the group is closed and every result has been read.
func (g *Group[K, T]) take() ([]result[T], bool) {
	g.mu.Lock()
	out := append(g.out[:0], g.unread...)
	g.unread = nil
	wasFull := len(g.free) == 0
	for len(out) < cap(out) {
		i, ok := g.ready()
		if !ok {
			break
		}
		s := &g.slots[i]
		out = append(out, result[T]{s.v, s.err})
		*s = slot[T]{}
		g.free = append(g.free, i)
	}
	finished := len(out) == 0 && g.closed && len(g.free) == len(g.slots)
	if finished && !g.finished {
		g.finished = true
		g.unhook()
	}
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

// putBack returns results a reader took but did not read, when it broke out of its range: they
// are handed to the next range first.
func (g *Group[K, T]) putBack(rest []result[T]) {
	if len(rest) == 0 {
		return
	}
	g.mu.Lock()
	g.unread = append([]result[T](nil), rest...)
	g.mu.Unlock()
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
