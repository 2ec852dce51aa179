package jetstream

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// A message on the consumer's last delivery has no second chance at the server: a Nak, or an
// AckWait that expires, makes the server drop it (it sends a MAX_DELIVERIES advisory and moves
// the consumer's ack floor past it; nothing a client sends makes a delivery not count). So the
// feed never hands such a message back: a run that ends before its item finished dead-letters it
// (ReasonUnfinished), and when its dead-letter publication fails the feed keeps it here, holding
// it in progress, and publishes it again until the dead-letter stream stores it. Only a run that
// ends with the dead-letter stream still unreachable gives one up: counted in Stats.Dropped and
// reported to the OnError func with its stream sequence, since it stays in the stream.

// keptMsg is a message on its last delivery whose dead letter is not stored yet.
type keptMsg[T any] struct {
	h      held[T]
	out    *nats.Msg // its dead letter
	reason string
	slot   bool // it holds an in-flight slot (else it counts in Held only)
}

// lastPublishTimeout bounds one publication of a last delivery's dead letter. It does not end
// with the work's context: an aborting run dead-letters its last deliveries too.
const lastPublishTimeout = 5 * time.Second

// publishLast publishes km's dead letter and terminates the message; it reports a failure and
// returns it, leaving km to the caller.
func (f *Feed[K, T]) publishLast(km keptMsg[T]) error {
	ctx, cancel := context.WithTimeout(context.Background(), lastPublishTimeout)
	defer cancel()
	if _, err := f.js.PublishMsg(ctx, km.out); err != nil {
		seq := seqOf(km.h.msg)
		err = fmt.Errorf("jetstream: dead-lettering message %d to %q on its last delivery: %w", seq, f.opts.deadLetter, err)
		f.report(err)
		return err
	}
	f.terminate(km)
	return nil
}

// keep adds km to the kept messages, or, once the run's last attempt is over, drops it.
func (f *Feed[K, T]) keep(km keptMsg[T]) {
	f.keptMu.Lock()
	closed := f.keptClosed
	if !closed {
		if !km.slot {
			f.stats.held.Add(1)
		}
		km.h.since = time.Now()
		f.kept = append(f.kept, km)
	}
	f.keptMu.Unlock()
	if closed {
		f.drop(km, false)
	}
}

// drop gives up on a kept message as the run ends.
func (f *Feed[K, T]) drop(km keptMsg[T], counted bool) {
	f.stats.dropped.Add(1)
	f.report(fmt.Errorf("jetstream: message %d of stream %q could not be dead-lettered on its last delivery "+
		"before the run ended: it stays in the stream, and consumer %q does not deliver it again", seqOf(km.h.msg),
		f.stream, f.consumer))
	if counted && !km.slot {
		f.stats.held.Add(-1)
	}
	f.unhold(km.slot)
}

// retryKept starts a goroutine that publishes the kept messages again, unless one is at it or
// there are none. The watcher calls it every tick.
func (f *Feed[K, T]) retryKept() {
	f.keptMu.Lock()
	defer f.keptMu.Unlock()
	if len(f.kept) == 0 || f.keptClosed || f.keptBusy {
		return
	}
	f.keptBusy = true
	f.keptWG.Add(1) // with keptMu held: settleKept closes kept under it before it waits
	go func() {
		defer f.keptWG.Done()
		f.publishKept()
		f.keptMu.Lock()
		f.keptBusy = false
		f.keptMu.Unlock()
	}()
}

// publishKept publishes every kept message once and forgets those stored. Only one goroutine
// runs it at a time (keptBusy, or settleKept once no other can start); others only append to
// kept meanwhile, so the entries it read stay where they were.
func (f *Feed[K, T]) publishKept() {
	f.keptMu.Lock()
	todo := append([]keptMsg[T](nil), f.kept...)
	f.keptMu.Unlock()
	stored := make(map[*nats.Msg]bool, len(todo))
	for _, km := range todo {
		if f.publishLast(km) == nil {
			stored[km.out] = true
			if !km.slot {
				f.stats.held.Add(-1)
			}
		}
	}
	f.keptMu.Lock()
	left := f.kept[:0]
	for _, km := range f.kept {
		if !stored[km.out] {
			left = append(left, km)
		}
	}
	clear(f.kept[len(left):])
	f.kept = left
	if len(left) == 0 {
		select {
		case f.keptEmpty <- struct{}{}:
		default:
		}
	}
	f.keptMu.Unlock()
}

// settleKept ends the kept messages as the run ends: on a graceful end it waits until the
// retries have stored them all or deadline passes; then it stops the retries, publishes each
// left once more and drops those that still fail.
func (f *Feed[K, T]) settleKept(deadline <-chan time.Time) {
	if deadline != nil {
	wait:
		for {
			f.keptMu.Lock()
			n := len(f.kept)
			f.keptMu.Unlock()
			if n == 0 {
				break
			}
			select {
			case <-f.keptEmpty:
			case <-deadline:
				break wait
			}
		}
	}
	f.keptMu.Lock()
	f.keptClosed = true
	f.keptMu.Unlock()
	f.keptWG.Wait()
	f.keptMu.Lock()
	left := f.kept
	f.kept = nil
	f.keptMu.Unlock()
	for _, km := range left {
		if f.publishLast(km) == nil {
			if !km.slot {
				f.stats.held.Add(-1)
			}
			continue
		}
		f.drop(km, true)
	}
}
