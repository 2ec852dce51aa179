package group

import "sync/atomic"

// ring is a FIFO of slot indexes, of a fixed capacity; it does not allocate.
type ring struct {
	buf        []int
	head, size int
}

func newRing(capacity int) ring { return ring{buf: make([]int, capacity)} }

func (r *ring) len() int { return r.size }

func (r *ring) push(i int) {
	r.buf[(r.head+r.size)%len(r.buf)] = i
	r.size++
}

// pushFront puts i at the front: it is popped next.
func (r *ring) pushFront(i int) {
	r.head = (r.head - 1 + len(r.buf)) % len(r.buf)
	r.buf[r.head] = i
	r.size++
}

func (r *ring) peek() int { return r.buf[r.head] }

// popBack removes and returns the index pushed last.
func (r *ring) popBack() int {
	r.size--
	return r.buf[(r.head+r.size)%len(r.buf)]
}

func (r *ring) pop() int {
	i := r.buf[r.head]
	r.head = (r.head + 1) % len(r.buf)
	r.size--
	return i
}

// takeFrom moves every index of o, in order, to the empty ring r, which is at least as large.
func (r *ring) takeFrom(o *ring) {
	r.head, r.size = 0, 0
	for o.len() > 0 {
		r.push(o.pop())
	}
	o.head = 0
}

// groupQueue is the router's FIFO of groups with work to hand out; it grows as needed and
// reuses its storage.
type groupQueue[K comparable, In, Out any] struct {
	buf  []*MapGroup[K, In, Out]
	head int
}

func (q *groupQueue[K, In, Out]) len() int { return len(q.buf) - q.head }

func (q *groupQueue[K, In, Out]) push(g *MapGroup[K, In, Out]) {
	if q.head > 0 && len(q.buf) == cap(q.buf) {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, g)
}

func (q *groupQueue[K, In, Out]) pop() *MapGroup[K, In, Out] {
	g := q.buf[q.head]
	q.buf[q.head] = nil
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
	return g
}

// takeScan is how many groups from the front of the queue take tries to lock.
const takeScan = 8

// take removes and returns a group of the queue's first takeScan whose lock it gets, with its
// lock held (locked): the first, or in a weighted router the one of least vtime (weight.go),
// raising vnow to that vtime. If it gets none, it returns the front group, unlocked, and leaves it
// in the queue. The queue is not empty. The groups it passes over keep their places (and, in a
// weighted router, their vtimes: they are served first once their locks are free).
func (q *groupQueue[K, In, Out]) take(weighted bool, vnow *atomic.Int64) (g *MapGroup[K, In, Out], locked bool) {
	end := min(len(q.buf), q.head+takeScan)
	if !weighted {
		for i := q.head; i < end; i++ {
			if g := q.buf[i]; g.mu.TryLock() {
				q.remove(i)
				return g, true
			}
		}
		return q.buf[q.head], false
	}
	// The candidates by vtime, least first: at most takeScan of them, sorted by insertion.
	var order [takeScan]int
	var vt [takeScan]int64
	n := 0
	for i := q.head; i < end; i++ {
		v := q.buf[i].vtime.Load()
		j := n
		for ; j > 0 && vt[j-1] > v; j-- {
			order[j], vt[j] = order[j-1], vt[j-1]
		}
		order[j], vt[j] = i, v
		n++
	}
	for c := range n {
		if g := q.buf[order[c]]; g.mu.TryLock() {
			if v := vt[c]; vnow.Load() < v {
				vnow.Store(v)
			}
			q.remove(order[c])
			return g, true
		}
	}
	return q.buf[q.head], false
}

// remove takes the group at index i out of the queue; the ones before it move up one.
func (q *groupQueue[K, In, Out]) remove(i int) {
	copy(q.buf[q.head+1:i+1], q.buf[q.head:i])
	q.pop()
}
