package jetstream

// idleList is a doubly linked list of the keys with no message, least recently used first.
type idleList[K comparable, T any] struct {
	head, tail *key[K, T]
	n          int
}

func (l *idleList[K, T]) push(ks *key[K, T]) {
	ks.idle, ks.prev, ks.next = true, l.tail, nil
	if l.tail != nil {
		l.tail.next = ks
	} else {
		l.head = ks
	}
	l.tail = ks
	l.n++
}

func (l *idleList[K, T]) remove(ks *key[K, T]) {
	if ks.prev != nil {
		ks.prev.next = ks.next
	} else {
		l.head = ks.next
	}
	if ks.next != nil {
		ks.next.prev = ks.prev
	} else {
		l.tail = ks.prev
	}
	ks.idle, ks.prev, ks.next = false, nil, nil
	l.n--
}
