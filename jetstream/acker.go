package jetstream

import (
	"fmt"
	"runtime"
	"sync"

	natsjs "github.com/nats-io/nats.go/jetstream"
)

// acker acknowledges the messages whose items succeeded, on one goroutine, in bursts.
//
// Leaky abstraction warning: this exists for the client's sake. Every publication on a nats.Conn
// (an Ack is one) wakes the connection's flusher, which writes what is buffered; acknowledgements
// trickling in from many readers, each on its own goroutine, are written one system call each,
// which measured as a third of the process's CPU time. Handed to one goroutine that publishes
// whatever has accumulated in one go, they share the writes.
type acker struct {
	mu      sync.Mutex
	queue   []natsjs.Msg
	spare   []natsjs.Msg
	wake    chan struct{}
	stopc   chan struct{}
	ended   chan struct{}
	ack     func(natsjs.Msg)
	release func()
}

func newAcker(ack func(natsjs.Msg), release func()) *acker {
	a := &acker{
		wake: make(chan struct{}, 1), stopc: make(chan struct{}), ended: make(chan struct{}),
		ack: ack, release: release,
	}
	go a.loop()
	return a
}

// add queues m for acknowledgement; its slot is released once it is acknowledged.
func (a *acker) add(m natsjs.Msg) {
	a.mu.Lock()
	a.queue = append(a.queue, m)
	first := len(a.queue) == 1
	a.mu.Unlock()
	if first {
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

func (a *acker) loop() {
	defer close(a.ended)
	for {
		select {
		case <-a.wake:
			runtime.Gosched() // let the readers that are ready add theirs: larger bursts
			a.flush()
		case <-a.stopc:
			a.flush()
			return
		}
	}
}

func (a *acker) flush() {
	a.mu.Lock()
	batch := a.queue
	a.queue, a.spare = a.spare[:0], nil
	a.mu.Unlock()
	for i, m := range batch {
		a.ack(m)
		a.release()
		batch[i] = nil
	}
	a.mu.Lock()
	a.spare = batch[:0]
	a.mu.Unlock()
}

// ackOne acknowledges a message whose item succeeded.
func (f *Feed[K, T]) ackOne(m natsjs.Msg) {
	if err := m.Ack(); err != nil {
		f.report(fmt.Errorf("jetstream: ack of message %d: %w", seqOf(m), err))
	}
}
