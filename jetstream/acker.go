package jetstream

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync/atomic"

	natsjs "github.com/nats-io/nats.go/jetstream"
)

// acker acknowledges the messages whose items succeeded, on one goroutine, in bursts.
//
// Leaky abstraction warning: this exists for the client's sake. Every publication on a nats.Conn
// (an Ack is one) wakes the connection's flusher, which writes what is buffered; acknowledgements
// trickling in from many readers, each on its own goroutine, are written one system call each,
// which measured as a third of the process's CPU time. Handed to one goroutine that publishes
// whatever has accumulated in one go, they share the writes.
//
// The readers hand the messages over through a ring without a lock (a mutex shared by every
// reader measured as most of the feed's lock waits): a reader reserves an entry by counting up
// tail and then publishes it by storing its sequence number. The ring has room for MaxInFlight
// messages, which it never exceeds: a queued message holds a slot of the feed's gate until the
// acker has read it and released the slot, so a reader never writes an entry the acker has not
// read.
type acker struct {
	ring   []ackEntry
	mask   uint64
	tail   atomic.Uint64 // the next entry to reserve
	head   uint64        // the next entry to read; the acker's goroutine's own
	asleep atomic.Bool   // the acker waits for wake
	wake   chan struct{}
	stopc  chan struct{}
	ended  chan struct{}

	ack     func(natsjs.Msg)
	release func(n int)
}

// ackEntry is an entry of the acker's ring; seq is its index + 1 once msg is written.
type ackEntry struct {
	seq atomic.Uint64
	msg natsjs.Msg
}

// newAcker starts an acker for at most capacity queued messages, which acknowledges each with ack
// and then releases their slots with release.
func newAcker(capacity int, ack func(natsjs.Msg), release func(n int)) *acker {
	size := uint64(1) << bits.Len(uint(capacity-1))
	a := &acker{
		ring: make([]ackEntry, size), mask: size - 1,
		wake: make(chan struct{}, 1), stopc: make(chan struct{}), ended: make(chan struct{}),
		ack: ack, release: release,
	}
	go a.loop()
	return a
}

// add queues m for acknowledgement; its slot is released once it is acknowledged.
func (a *acker) add(m natsjs.Msg) {
	i := a.tail.Add(1) - 1
	e := &a.ring[i&a.mask]
	e.msg = m
	e.seq.Store(i + 1)
	if a.asleep.Load() && a.asleep.CompareAndSwap(true, false) {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
}

// stop acknowledges what is queued and ends the goroutine; nothing may be added after it.
func (a *acker) stop() {
	close(a.stopc)
	<-a.ended
}

// loop acknowledges what is queued, then sleeps until a reader queues more. It announces its
// sleep before it looks a last time, and a reader looks for the announcement after it queued, so
// one of the two sees the other: no message waits for a wake-up that never comes.
func (a *acker) loop() {
	defer close(a.ended)
	for {
		a.flush()
		a.asleep.Store(true)
		if a.ready() {
			a.asleep.Store(false)
			continue
		}
		select {
		case <-a.wake:
			a.gather()
		case <-a.stopc:
			a.flush()
			return
		}
	}
}

// gather yields the processor while readers keep queueing messages, a few times at most, so
// that a burst carries what the ready readers have: larger bursts, fewer writes.
func (a *acker) gather() {
	queued := a.tail.Load() - a.head
	for range maxGather {
		runtime.Gosched()
		now := a.tail.Load() - a.head
		if now == queued {
			return
		}
		queued = now
	}
}

const maxGather = 8

// ready reports whether the next entry is written.
func (a *acker) ready() bool {
	return a.ring[a.head&a.mask].seq.Load() == a.head+1
}

// flush acknowledges the entries written in order from head, and releases their slots.
func (a *acker) flush() {
	n := 0
	for a.ready() {
		e := &a.ring[a.head&a.mask]
		m := e.msg
		e.msg = nil
		a.head++
		a.ack(m)
		n++
	}
	if n > 0 {
		a.release(n)
	}
}

// ackOne acknowledges a message whose item succeeded.
func (f *Feed[K, T]) ackOne(m natsjs.Msg) {
	if err := m.Ack(); err != nil {
		f.report(fmt.Errorf("jetstream: ack of message %d: %w", seqOf(m), err))
	}
}
