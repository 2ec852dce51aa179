package jetstream

import (
	"errors"
	"fmt"
	"sync"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// held is a message the feed holds: received, not yet settled. v is the decoded item while the
// message waits in its key's overflow; it is dropped once the item is submitted.
type held[T any] struct {
	msg        natsjs.Msg
	v          T
	deliveries uint64
	since      time.Time // when the message arrived or was last reported in progress
}

// key is the feed's state of one group key: its open group, the messages whose items are in the
// group (pending, in submission order, which is the order of the group's results), and those
// waiting for room in the group's window (overflow).
//
// Locking: the key's own mu guards pending and overflow, and submissions to g, which must keep
// their order; the feed's mu guards the rest (closed and the idle list) and the map of keys. The
// feed's mu is taken first when both are held. Only the enqueue that takes a key's mu while it
// holds the feed's makes an empty key non-empty; so a key found empty with both held stays empty
// until the feed's mu is released, and may be closed or put on the idle list. This keeps the
// group hand-off (TrySubmit) of one key from holding up the other keys' readers and the delivery
// goroutine, which under load measured as most of the feed's lock waits.
type key[K comparable, T any] struct {
	k  K
	g  *group.Group[K, T]
	mu sync.Mutex

	pending  queue[held[T]]
	overflow queue[held[T]]

	closed     bool       // the feed closed g: no submissions any more
	prev, next *key[K, T] // in the idle list while pending and overflow are empty
	idle       bool
}

// empty reports whether the key holds no message. Called with k.mu held.
func (k *key[K, T]) empty() bool { return k.pending.len() == 0 && k.overflow.len() == 0 }

// handle is the consumer's message handler: it runs on the client's one delivery goroutine and
// hands each message to the dispatcher, through a small buffer. When the dispatcher waits for a
// slot, the buffer fills and handle waits: that is what stops the feed from pulling more than it
// can hold.
func (f *Feed[K, T]) handle(m natsjs.Msg) {
	f.stats.received.Add(1)
	deliveries, err := numDelivered(m)
	if err != nil { // not a JetStream message: nothing to acknowledge it to
		f.report(fmt.Errorf("jetstream: message on %q: %w", m.Subject(), err))
		return
	}
	if deliveries > 1 {
		f.stats.redelivered.Add(1)
	}
	h := held[T]{msg: m, deliveries: deliveries}
	f.inMu.RLock() // the delivery goroutine is the only reader: see stopDispatch
	if f.inClosed {
		f.inMu.RUnlock()
		f.giveBack(h, false)
		return
	}
	f.in <- h
	f.inMu.RUnlock()
}

// dispatchBuffer is the room between the delivery goroutine and the dispatcher: messages there
// are pulled but not yet held, like those in the client's buffer.
const dispatchBuffer = 16

// The dispatcher runs the user's decode func on a goroutine of the feed's own, so that a decode
// func that calls runtime.Goexit ends that goroutine and not the client's delivery goroutine,
// whose end would stop the consumption for good: the message is poison, and a new dispatcher
// takes over. It then takes a slot for the message and hands it to its key.

func (f *Feed[K, T]) startDispatch() {
	f.dispatchers.Add(1)
	go f.dispatch()
}

// dispatch handles the messages of in until it is closed. A decode func that calls
// runtime.Goexit ends the goroutine through the deferred func, which dead-letters the message
// and starts the next dispatcher before this one ends (so that dispatchers never reaches zero
// meanwhile).
func (f *Feed[K, T]) dispatch() {
	var h held[T]
	decoding := false
	defer func() {
		if decoding {
			f.stats.undecodable.Add(1)
			f.deadLetter(h, ReasonDecode, errDecodeGoexit, false)
			f.startDispatch()
		}
		f.dispatchers.Done()
	}()
	for h = range f.in {
		decoding = true
		k, v, err := f.safeDecode(h.msg)
		decoding = false
		f.dispatchOne(k, v, err, h)
	}
}

// errDecodeGoexit is the poison error of a message whose decode func called runtime.Goexit.
var errDecodeGoexit = fmt.Errorf("jetstream: decode func: %w", panics.ErrGoexit)

// dispatchOne takes a slot for a decoded message and hands it to its key; it dead-letters a
// message that did not decode.
func (f *Feed[K, T]) dispatchOne(k K, v T, err error, h held[T]) {
	if err != nil {
		f.stats.undecodable.Add(1)
		f.deadLetter(h, ReasonDecode, err, false)
		return
	}
	if !f.acquire() {
		f.giveBack(h, false)
		return
	}
	h.v, h.since = v, time.Now()
	if err := f.enqueue(k, h); err != nil {
		if errors.Is(err, errOverShare) {
			f.release()
			f.deferMsg(h)
			return
		}
		f.failToHold(h, err)
	}
}

// stopDispatch closes in, so that handle gives back whatever it gets from then on, and returns a
// channel closed once the dispatchers have handled what in held and ended. The delivery
// goroutine sends on in with inMu read-locked, so in is never closed under a send; a send that
// waits for room ends once the dispatcher takes a message, or, if it waits for a slot, once the
// run aborts.
func (f *Feed[K, T]) stopDispatch() <-chan struct{} {
	if f.dispatched == nil {
		done := make(chan struct{})
		f.dispatched = done
		go func() {
			f.inMu.Lock()
			f.inClosed = true
			close(f.in)
			f.inMu.Unlock()
			f.dispatchers.Wait()
			close(done)
		}()
	}
	return f.dispatched
}

// safeDecode runs the user's decode func; a panic in it makes the message poison too.
func (f *Feed[K, T]) safeDecode(m natsjs.Msg) (k K, v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panics.New(p)
		}
	}()
	return f.decode(m)
}

// acquire takes a slot for a message, waiting for one unless the run aborts.
func (f *Feed[K, T]) acquire() bool {
	if !f.slots.acquire(f.abort) {
		return false
	}
	f.stats.held.Add(1)
	return true
}

func (f *Feed[K, T]) release() { f.releaseN(1) }

// releaseN releases n slots at once.
func (f *Feed[K, T]) releaseN(n int) {
	f.stats.held.Add(int64(-n))
	f.slots.release(n)
}

// failToHold settles a message the feed could not hand to a group, and releases its slot.
func (f *Feed[K, T]) failToHold(h held[T], err error) {
	if errors.Is(err, group.ErrRouterClosed) {
		f.fail(fmt.Errorf("jetstream: consumer %q: %w", f.consumer, err))
	}
	if f.aborted() || errors.Is(err, errClosing) || errors.Is(err, group.ErrRouterClosed) {
		f.giveBack(h, true)
		return
	}
	f.report(fmt.Errorf("jetstream: message %d: %w", seqOf(h.msg), err))
	if f.last(h) { // a retry would be its end
		f.deadLetter(h, ReasonMaxDeliver, err, true)
		return
	}
	f.retry(h)
	f.release()
}

var (
	errClosing   = errors.New("jetstream: feed closing")
	errOverShare = errors.New("jetstream: the key holds its share")
)

// enqueue hands h's item to its key's group, opening the group if need be, or queues it behind
// the key's earlier messages when the group's window is full. It returns errOverShare, leaving
// the key as it was, if the key holds its share already, fewer than a share of slots are left
// free, and h is not on its last delivery (a key that holds its share is not empty, so it stays
// off the idle list).
func (f *Feed[K, T]) enqueue(k K, h held[T]) error {
	ks, err := f.lockKey(k)
	if err != nil {
		return err
	}
	if ks.pending.len()+ks.overflow.len() >= f.opts.keyShare && f.slots.free() < f.opts.keyShare && !f.last(h) {
		ks.mu.Unlock()
		return errOverShare
	}
	if ks.overflow.len() == 0 && ks.pending.len() < f.opts.window {
		err := ks.g.TrySubmit(h.v)
		if err == nil {
			var zero T
			h.v = zero
			ks.pending.push(h)
			ks.mu.Unlock()
			return nil
		}
		if !errors.Is(err, group.ErrWindowFull) {
			ks.mu.Unlock() // the overflow is empty, and only this goroutine adds to it
			f.mu.Lock()
			f.forget(ks)
			f.mu.Unlock()
			return err
		}
	}
	ks.overflow.push(h)
	ks.mu.Unlock()
	return nil
}

// lockKey returns k's state, opening its group if need be, taken off the idle list and with its
// mu held: the caller is about to give it a message.
func (f *Feed[K, T]) lockKey(k K) (*key[K, T], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ks := f.keys[k]
	if ks == nil || ks.closed {
		if f.closing {
			return nil, errClosing
		}
		var err error
		if ks, err = f.open(k); err != nil {
			return nil, err
		}
	}
	if ks.idle {
		f.idle.remove(ks)
	}
	ks.mu.Lock() // before the feed's mu is released: see key
	return ks, nil
}

// The feed keeps at most Window items of a key in its group (pending), and opens the group with
// a window twice as large. A group's window counts the results its reader holds as well, until
// the reader asks for more (at most the pending items of its last request, so at most Window),
// and the reader is the one that submits the overflow: with a window of only Window, the reader
// could find the window full of results it holds itself and wait for results that never come.
const windowFactor = 2

// open opens k's group and starts its reader. Called with mu held.
func (f *Feed[K, T]) open(k K) (*key[K, T], error) {
	g, err := f.router.Open(f.workCtx, k, group.Serial(), group.Window(windowFactor*f.opts.window))
	if err != nil {
		return nil, err
	}
	ks := &key[K, T]{k: k, g: g}
	f.keys[k] = ks
	f.readers.Add(1)
	go f.read(ks)
	return ks, nil
}

// forget drops ks from the feed, closing its group. Called with mu held.
func (f *Feed[K, T]) forget(ks *key[K, T]) {
	if ks.idle {
		f.idle.remove(ks)
	}
	if f.keys[ks.k] == ks {
		delete(f.keys, ks.k)
	}
	if !ks.closed {
		ks.closed = true
		ks.g.Close()
	}
}
