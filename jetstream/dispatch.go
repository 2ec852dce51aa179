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
	d, ok := f.dec.decode(m)
	if !ok { // the run has ended
		f.giveBack(h, false)
		return
	}
	if d.err != nil {
		f.stats.undecodable.Add(1)
		f.deadLetter(h, ReasonDecode, d.err, false)
		return
	}
	if !f.acquire() {
		f.giveBack(h, false)
		return
	}
	h.v, h.since = d.v, time.Now()
	if err := f.enqueue(d.k, h); err != nil {
		if errors.Is(err, errOverShare) {
			f.release()
			f.deferMsg(h)
			return
		}
		f.failToHold(h, err)
	}
}

// decoder runs the user's decode func on a goroutine of the feed's own, so that a decode func
// that calls runtime.Goexit ends that goroutine and not the client's delivery goroutine, which
// would stop the consumption for good: the message is poison, and a new decoder takes over.
// The delivery goroutine hands it one message at a time and waits for the result.
type decoder[K comparable, T any] struct {
	fn    func(natsjs.Msg) (K, T, error)
	in    chan natsjs.Msg
	out   chan decoded[K, T]
	stopc chan struct{}
	wg    sync.WaitGroup
}

type decoded[K comparable, T any] struct {
	k   K
	v   T
	err error
}

// errDecodeGoexit is the poison error of a message whose decode func called runtime.Goexit.
var errDecodeGoexit = fmt.Errorf("jetstream: decode func: %w", panics.ErrGoexit)

func newDecoder[K comparable, T any](fn func(natsjs.Msg) (K, T, error)) *decoder[K, T] {
	return &decoder[K, T]{fn: fn, in: make(chan natsjs.Msg), out: make(chan decoded[K, T]),
		stopc: make(chan struct{})}
}

func (d *decoder[K, T]) start() {
	d.wg.Add(1)
	go d.loop()
}

// stop ends the decoder; decode reports false from then on.
func (d *decoder[K, T]) stop() {
	close(d.stopc)
	d.wg.Wait()
}

// decode runs the decode func on m; ok is false once the decoder is stopped.
func (d *decoder[K, T]) decode(m natsjs.Msg) (r decoded[K, T], ok bool) {
	select {
	case d.in <- m:
		return <-d.out, true
	case <-d.stopc:
		return r, false
	}
}

// loop decodes what it is handed until stopped. A decode func that calls runtime.Goexit ends
// the goroutine through the deferred func, which answers for the message and starts the next
// decoder before this one ends (so that wg never reaches zero meanwhile).
func (d *decoder[K, T]) loop() {
	goexit := true
	defer func() {
		if goexit {
			d.out <- decoded[K, T]{err: errDecodeGoexit}
			d.wg.Add(1)
			go d.loop()
		}
		d.wg.Done()
	}()
	for {
		select {
		case m := <-d.in:
			var r decoded[K, T]
			r.k, r.v, r.err = d.safeDecode(m)
			d.out <- r
		case <-d.stopc:
			goexit = false
			return
		}
	}
}

// safeDecode runs the user's decode func; a panic in it makes the message poison too.
func (d *decoder[K, T]) safeDecode(m natsjs.Msg) (k K, v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panics.New(p)
		}
	}()
	return d.fn(m)
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
