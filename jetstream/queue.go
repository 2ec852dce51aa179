package jetstream

// queue is a FIFO on a slice: push at the tail, pop at the head. Popped slots are zeroed so that
// the queue keeps no message alive, and the backing array is reused once the queue empties or its
// dead head outgrows its live part.
type queue[E any] struct {
	buf  []E
	head int
}

func (q *queue[E]) len() int { return len(q.buf) - q.head }

func (q *queue[E]) push(e E) {
	if q.head > 0 && q.head >= len(q.buf)/2 && len(q.buf) == cap(q.buf) {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, e)
}

// pop removes and returns the head; the queue must not be empty.
func (q *queue[E]) pop() E {
	e := q.buf[q.head]
	var zero E
	q.buf[q.head] = zero
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
	return e
}

// all calls f with a pointer to every element, head first.
func (q *queue[E]) all(f func(*E)) {
	for i := q.head; i < len(q.buf); i++ {
		f(&q.buf[i])
	}
}
