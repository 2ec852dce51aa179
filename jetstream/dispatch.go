package jetstream

import (
	"errors"
	"fmt"
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
// waiting for room in the group's window (overflow). Guarded by the feed's mu.
type key[K comparable, T any] struct {
	k        K
	g        *group.Group[K, T]
	pending  queue[held[T]]
	overflow queue[held[T]]
	closed   bool // the feed closed g: no submissions any more

	prev, next *key[K, T] // in the idle list while pending and overflow are empty
	idle       bool
}

func (k *key[K, T]) empty() bool { return k.pending.len() == 0 && k.overflow.len() == 0 }

// handle is the consumer's message handler: it runs on the client's one delivery goroutine, so
// blocking here (for a slot) is what stops the feed from pulling more than it can hold.
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
	k, v, err := f.safeDecode(m)
	if err != nil {
		f.stats.undecodable.Add(1)
		f.deadLetter(h, ReasonDecode, err)
		return
	}
	if !f.acquire() {
		f.handBack(h)
		return
	}
	h.v, h.since = v, time.Now()
	if err := f.enqueue(k, h); err != nil {
		f.release()
		f.failToHold(h, err)
	}
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

func (f *Feed[K, T]) release() {
	f.stats.held.Add(-1)
	f.slots.release()
}

// failToHold settles a message the feed could not hand to a group.
func (f *Feed[K, T]) failToHold(h held[T], err error) {
	if errors.Is(err, group.ErrRouterClosed) {
		f.fail(fmt.Errorf("jetstream: consumer %q: %w", f.consumer, err))
	}
	if f.aborted() || errors.Is(err, errClosing) || errors.Is(err, group.ErrRouterClosed) {
		f.handBack(h)
		return
	}
	f.report(fmt.Errorf("jetstream: message %d: %w", seqOf(h.msg), err))
	f.retry(h)
}

var errClosing = errors.New("jetstream: feed closing")

// enqueue hands h's item to its key's group, opening the group if need be, or queues it behind
// the key's earlier messages when the group's window is full.
func (f *Feed[K, T]) enqueue(k K, h held[T]) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ks := f.keys[k]
	if ks == nil || ks.closed {
		if f.closing {
			return errClosing
		}
		var err error
		if ks, err = f.open(k); err != nil {
			return err
		}
	}
	if ks.idle {
		f.idle.remove(ks)
	}
	if ks.overflow.len() == 0 && ks.pending.len() < f.opts.window {
		err := ks.g.TrySubmit(h.v)
		if err == nil {
			var zero T
			h.v = zero
			ks.pending.push(h)
			return nil
		}
		if !errors.Is(err, group.ErrWindowFull) {
			f.forget(ks)
			return err
		}
	}
	ks.overflow.push(h)
	return nil
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

// read is a group's reader: it settles each message as its item's result comes back, moves the
// key's overflow into the room each result frees, and ends when the group does.
func (f *Feed[K, T]) read(ks *key[K, T]) {
	defer f.readers.Done()
	var refused []held[T]
	for _, err := range ks.g.Results() {
		f.mu.Lock()
		h := ks.pending.pop()
		var refusal error
		refused, refusal = f.refill(ks, refused[:0])
		f.rest(ks)
		f.mu.Unlock()
		f.settle(h, err)
		for _, r := range refused {
			f.release()
			f.failToHold(r, refusal)
		}
	}
}

// refill submits the key's overflow while fewer than Window of its items are in the group. If
// the group refuses them for good (its context ended, the router closed), it forgets the key and
// returns them with the group's error. Called with mu held.
func (f *Feed[K, T]) refill(ks *key[K, T], refused []held[T]) ([]held[T], error) {
	for ks.overflow.len() > 0 && ks.pending.len() < f.opts.window {
		h := &ks.overflow.buf[ks.overflow.head]
		err := ks.g.TrySubmit(h.v)
		if errors.Is(err, group.ErrWindowFull) {
			return refused, nil
		}
		if err != nil {
			f.forget(ks)
			for ks.overflow.len() > 0 {
				refused = append(refused, ks.overflow.pop())
			}
			return refused, err
		}
		var zero T
		h.v = zero
		ks.pending.push(ks.overflow.pop())
	}
	return refused, nil
}

// rest deals with a key that may have just emptied: once the feed is closing its group closes,
// else it joins the idle list, whose least recently used groups close beyond IdleGroups.
// Called with mu held.
func (f *Feed[K, T]) rest(ks *key[K, T]) {
	if ks.closed || !ks.empty() {
		return
	}
	if f.closing {
		f.forget(ks)
		return
	}
	f.idle.push(ks)
	for f.idle.n > f.opts.idleGroups {
		f.forget(f.idle.head)
	}
}

// closeGroups stops the feed opening groups and closes every group that is empty; the others
// close as their readers empty them.
func (f *Feed[K, T]) closeGroups() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closing = true
	for _, ks := range f.keys {
		if ks.empty() {
			f.forget(ks)
		}
	}
}

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
