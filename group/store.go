package group

import (
	"math/bits"
	"sync"
)

// store is a group's window storage: a slot for every item submitted and not yet read, the free
// slots, and the queues of slot indexes. A group holds a store only while it holds items: it
// takes one from its router's pool on its first submission, grows it by doubling while the
// window allows, and gives it back once every item has been read (release), so an idle group
// holds no window at all, and a busy one allocates nothing in steady state: the pool hands back
// the store it gave up.
//
// Every field is read and written under the group's mu.
type store[In, Out any] struct {
	slots   []slot[In, Out] // every slot not in free is zero
	free    []int           // indexes of free slots
	pending ring            // submitted, not started, in submission order
	// ready is, for an ordered group, every item submitted and not yet read, in submission order;
	// for the others, every item finished and not yet read, in completion order.
	ready ring
}

// storePools are a router's pools of stores, one a capacity: capacities are powers of two.
type storePools[In, Out any] [bits.UintSize]sync.Pool

// minStore is the capacity of a group's first store.
const minStore = 2

// get returns an empty store of capacity n, a power of two.
func (p *storePools[In, Out]) get(n int) *store[In, Out] {
	if s, ok := p[bits.TrailingZeros(uint(n))].Get().(*store[In, Out]); ok {
		return s
	}
	s := &store[In, Out]{slots: make([]slot[In, Out], n), free: make([]int, n), pending: newRing(n), ready: newRing(n)}
	for i := range s.free {
		s.free[i] = n - 1 - i
	}
	return s
}

// put gives back an empty store: every slot is free and zero, and the rings are empty.
func (p *storePools[In, Out]) put(s *store[In, Out]) {
	p[bits.TrailingZeros(uint(len(s.slots)))].Put(s)
}

// grown returns a store of twice s's capacity (at most limit) holding s's items in the same slots
// and queue order, and gives s back. s has no free slot.
func (p *storePools[In, Out]) grown(s *store[In, Out], limit int) *store[In, Out] {
	old := len(s.slots)
	g := p.get(min(2*old, limit))
	copy(g.slots, s.slots)
	clear(s.slots)
	g.free = g.free[:0]
	for i := len(g.slots) - 1; i >= old; i-- {
		g.free = append(g.free, i)
	}
	g.pending.takeFrom(&s.pending)
	g.ready.takeFrom(&s.ready)
	s.free = s.free[:old]
	for i := range s.free {
		s.free[i] = old - 1 - i
	}
	p.put(s)
	return g
}

// capFor is the largest store capacity a window of n items needs: n rounded up to a power of two.
func capFor(n int) int { return 1 << bits.Len(uint(n-1)) }
