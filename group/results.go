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
// Leaving the range early, by a break, a panic of the loop body, a runtime.Goexit, or a
// [Repanic] panic that the caller recovers, leaves the unread results in the group for a later
// range; they keep their place in the window until they are read.
//
// One goroutine at a time may range over a group's results: a second range that starts while
// one is under way panics, naming the group.
func (g *MapGroup[K, In, Out]) Results() iter.Seq2[Out, error] {
	return func(yield func(Out, error) bool) {
		if !g.reading.CompareAndSwap(false, true) {
			panic(fmt.Sprintf("group %v: Results: another goroutine is ranging over this group's results; one reader at a time", g.key))
		}
		// read counts the results of the reader's buffer it has been given (a Repanic panic is
		// the delivery of its result). However the range ends early (the body breaks, panics or
		// calls runtime.Goexit, or a re-raised panic unwinds it), the deferred putBack hands the
		// others back to the group, before another range may start.
		read, early := 0, true
		defer func() {
			if early {
				g.putBack(read)
			}
			g.reading.Store(false)
		}()
		for {
			out, finished, streaming := g.take() // frees the slots of the results read before
			read = 0
			for k, r := range out {
				read = k + 1
				g.maybeRepanic(r.err)
				if !yield(r.v, r.err) {
					return
				}
			}
			if finished {
				early = false
				return
			}
			if len(out) == 0 {
				g.wait(streaming)
			}
		}
	}
}

// take frees the slots of the results the reader has read since the last take, and moves up to a
// buffer's worth of ready results out of the window into the reader's hands; their slots stay
// taken until they are read, so the window bounds what the reader holds too. It reports finished
// once the group is closed and every result has been read, and streaming while the group holds
// at least a reader's buffer of items (see MapGroup.wait).
func (g *MapGroup[K, In, Out]) take() (out []result[Out], finished, streaming bool) {
	g.mu.Lock()
	g.untimed = false // the reader is not waiting now
	wasFull := g.held() >= g.o.window
	g.freeSlots(g.lent)
	g.lent = append(g.lent[:0], g.unreadSlots...)
	out = append(g.out[:0], g.unread...)
	g.unread, g.unreadSlots = g.unread[:0], g.unreadSlots[:0]
	for len(out) < maxTake {
		i, ok := g.ready()
		if !ok {
			break
		}
		s := &g.st.slots[i]
		out = append(out, result[Out]{s.out, s.err})
		*s = slot[In, Out]{}
		g.lent = append(g.lent, i)
	}
	g.out = out
	g.giveBack()
	finished = len(out) == 0 && g.closed && g.held() == 0
	streaming = g.held() >= maxTake
	if wasFull && g.held() < g.o.window {
		signal(g.space)
	}
	if len(out) == 0 && !finished && g.notify == nil {
		g.notify = make(chan struct{}, 1)
	}
	g.mu.Unlock()
	return out, finished, streaming
}

// maxTake is the most results a reader takes from the window at once.
const maxTake = 64

// freeSlots frees the slots of results the reader has read. g.mu is held.
func (g *MapGroup[K, In, Out]) freeSlots(idx []int) {
	if len(idx) > 0 {
		g.st.free = append(g.st.free, idx...)
	}
}

// ready pops the index of the next result to read, if one is ready. g.mu is held.
func (g *MapGroup[K, In, Out]) ready() (int, bool) {
	if g.st == nil || g.st.ready.len() == 0 {
		return 0, false
	}
	if g.o.ordered && !g.st.slots[g.st.ready.peek()].done {
		return 0, false
	}
	return g.st.ready.pop(), true
}

// putBack is called when the reader left its range early after reading the first k results it
// took: their slots are freed, and the rest are handed to the next range first, keeping theirs.
func (g *MapGroup[K, In, Out]) putBack(k int) {
	g.mu.Lock()
	wasFull := g.held() >= g.o.window
	g.freeSlots(g.lent[:k])
	g.unread = append(g.unread[:0], g.out[k:]...)
	g.unreadSlots = append(g.unreadSlots[:0], g.lent[k:]...)
	g.lent = g.lent[:0]
	g.giveBack()
	if wasFull && g.held() < g.o.window {
		signal(g.space)
	}
	g.mu.Unlock()
}

// maybeRepanic re-raises a captured panic on the reader's goroutine, for a [Repanic] group.
func (g *MapGroup[K, In, Out]) maybeRepanic(err error) {
	if !g.o.repanic || err == nil {
		return
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		panic(pe)
	}
}
