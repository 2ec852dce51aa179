package group

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

// take removes and returns the first of the queue's first takeScan groups whose lock it gets,
// with its lock held (locked). If it gets none, it returns the front group, unlocked, and leaves
// it in the queue. The queue is not empty. The groups it passes over keep their places, and, in
// a weighted router, the credit of the turn they lose (see MapGroup.passed).
func (q *groupQueue[K, In, Out]) take(weighted bool) (g *MapGroup[K, In, Out], locked bool) {
	for i := q.head; i < len(q.buf) && i < q.head+takeScan; i++ {
		if g := q.buf[i]; g.mu.TryLock() {
			if weighted {
				for _, p := range q.buf[q.head:i] {
					p.passed()
				}
			}
			copy(q.buf[q.head+1:i+1], q.buf[q.head:i]) // the ones passed over move up one
			q.pop()
			return g, true
		}
	}
	return q.buf[q.head], false
}
