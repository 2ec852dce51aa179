package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
)

// watcher is a goroutine of the run beside the groups' readers and the acker: it tells the server
// every progress interval that the messages the feed has held that long are still being worked
// on; it follows the connection, failing the run once it has been lost for longer than
// DisconnectTimeout or closed for good; and when asked, it checks that the consumer still exists.
type watcher struct {
	stopc chan struct{}
	ended chan struct{}
}

func (f *Feed[K, T]) startWatch() *watcher {
	nc := f.js.Conn()
	status := nc.StatusChanged(nats.CONNECTED, nats.DISCONNECTED, nats.RECONNECTING, nats.CLOSED)
	w := &watcher{stopc: make(chan struct{}), ended: make(chan struct{})}
	go f.watch(nc, status, w)
	return w
}

// stop ends the watcher and waits for it.
func (w *watcher) stop() {
	close(w.stopc)
	<-w.ended
}

func (f *Feed[K, T]) watch(nc *nats.Conn, status chan nats.Status, w *watcher) {
	defer close(w.ended)
	defer nc.RemoveStatusListener(status)
	tick := time.NewTicker(max(f.progress/2, time.Millisecond)) // a message waits d to 1.5·d
	defer tick.Stop()
	lost := newLossTimer(f.opts.disconnect)
	defer lost.stop()
	var batch []natsjs.Msg
	f.checkConn(nc, lost)
	for {
		select {
		case <-w.stopc:
			return
		case <-status: // the event may be stale: check the connection as it is now
			f.checkConn(nc, lost)
		case <-lost.c:
			lost.c = nil
			f.fail(fmt.Errorf("%w: no connection to the server for %v", ErrDisconnected, f.opts.disconnect))
		case now := <-tick.C:
			batch = f.signalProgress(now, batch[:0])
			f.retryKept()
		case <-f.check:
			f.checkConsumer(w.stopc)
		}
	}
}

// checkConsumer fails the run if the server says the consumer does not exist any more: the
// client would otherwise keep asking it for messages forever.
func (f *Feed[K, T]) checkConsumer(stop <-chan struct{}) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if _, err := f.cons.Info(ctx); errors.Is(err, natsjs.ErrConsumerNotFound) {
		f.fail(fmt.Errorf("%w: consumer %q on stream %q: %w", ErrConsumeStopped, f.consumer, f.stream, err))
	}
}

// checkConn starts the loss timer when the connection is down and stops it when it is back.
func (f *Feed[K, T]) checkConn(nc *nats.Conn, lost *lossTimer) {
	switch nc.Status() {
	case nats.CONNECTED, nats.DRAINING_SUBS, nats.DRAINING_PUBS:
		lost.stop()
	case nats.CLOSED:
		f.fail(fmt.Errorf("%w: connection closed", ErrDisconnected))
	default:
		lost.start()
	}
}

// signalProgress sends InProgress for every held message not signalled for a progress interval.
func (f *Feed[K, T]) signalProgress(now time.Time, batch []natsjs.Msg) []natsjs.Msg {
	due := now.Add(-f.progress)
	mark := func(h *held[T]) {
		if !h.since.After(due) {
			h.since = now
			batch = append(batch, h.msg)
		}
	}
	f.mu.Lock()
	for _, ks := range f.keys {
		ks.mu.Lock()
		ks.pending.all(mark)
		ks.overflow.all(mark)
		ks.mu.Unlock()
	}
	f.mu.Unlock()
	f.keptMu.Lock()
	for i := range f.kept {
		mark(&f.kept[i].h)
	}
	f.keptMu.Unlock()
	for i, m := range batch {
		if err := m.InProgress(); err != nil && !errors.Is(err, natsjs.ErrMsgAlreadyAckd) {
			f.report(fmt.Errorf("jetstream: progress of message %d: %w", seqOf(m), err))
		}
		batch[i] = nil
	}
	return batch
}

// lossTimer measures how long the connection has been lost; c is nil while it is not running.
type lossTimer struct {
	d time.Duration
	t *time.Timer
	c <-chan time.Time
}

func newLossTimer(d time.Duration) *lossTimer { return &lossTimer{d: d} }

func (l *lossTimer) start() {
	if l.t == nil {
		l.t = time.NewTimer(l.d)
		l.c = l.t.C
	}
}

func (l *lossTimer) stop() {
	if l.t != nil {
		l.t.Stop()
		l.t, l.c = nil, nil
	}
}
