package jetstream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// Headers of a dead-lettered message, beside the original message's own headers (those of the
// server, "Nats-...", are dropped, since the server would act on them again).
const (
	HeaderReason     = "Dead-Letter-Reason"     // ReasonDecode, ReasonPermanent, ReasonPanic or ReasonMaxDeliver
	HeaderError      = "Dead-Letter-Error"      // the error's text
	HeaderStream     = "Dead-Letter-Stream"     // the stream the message came from
	HeaderConsumer   = "Dead-Letter-Consumer"   // the consumer that gave up on it
	HeaderSubject    = "Dead-Letter-Subject"    // the message's subject
	HeaderSequence   = "Dead-Letter-Sequence"   // the message's stream sequence, in decimal
	HeaderDeliveries = "Dead-Letter-Deliveries" // how many times it was delivered, in decimal
)

// Reasons a message is dead-lettered, the value of its [HeaderReason].
const (
	ReasonDecode     = "decode"      // the decode func failed, panicked or called Goexit: a poison message
	ReasonPermanent  = "permanent"   // the work func returned an error marked with Permanent
	ReasonPanic      = "panic"       // the work func panicked
	ReasonMaxDeliver = "max-deliver" // the work func failed (or the router refused the key) on the consumer's last delivery
	// ReasonUnfinished: the run ended (a shutdown past DrainTimeout, a lost connection, a closed
	// router) before the item finished, on the consumer's last delivery. Handing the message
	// back would be its end: the server does not deliver a message again past MaxDeliver.
	ReasonUnfinished = "unfinished"
)

// Permanent marks err as permanent: a message whose item fails with it is dead-lettered and
// terminated at once instead of retried. errors.Is and errors.As see through the mark. Permanent
// returns nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with [Permanent].
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (p permanentError) Error() string { return "permanent: " + p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// fate is what becomes of a held message once its item's result is in.
type fate int

const (
	fateAck        fate = iota // the item succeeded
	fateHandBack               // the run is aborting: Nak without delay, for another process
	fateRetry                  // NakWithDelay with the backoff delay
	fateDeadLetter             // publish to the dead-letter subject, then terminate
)

// decide is the feed's delivery contract as a pure function of an item's error, the deliveries
// its message has had, the consumer's MaxDeliver (0 or less: unlimited) and whether the run is
// aborting. It returns the message's fate and, for a dead letter, the reason. A message on its
// last delivery is never handed back: the server would not deliver it again.
func decide(err error, deliveries uint64, maxDeliver int, aborting bool) (fate, string) {
	var pe *panics.Error
	last := maxDeliver > 0 && deliveries >= uint64(maxDeliver)
	switch {
	case err == nil:
		return fateAck, ""
	case aborting, errors.Is(err, group.ErrRouterClosed):
		if last {
			return fateDeadLetter, ReasonUnfinished
		}
		return fateHandBack, ""
	case IsPermanent(err):
		return fateDeadLetter, ReasonPermanent
	case errors.As(err, &pe):
		return fateDeadLetter, ReasonPanic
	case last:
		return fateDeadLetter, ReasonMaxDeliver
	default:
		return fateRetry, ""
	}
}

// last reports whether h is on the consumer's last delivery.
func (f *Feed[K, T]) last(h held[T]) bool {
	return f.maxDeliver > 0 && h.deliveries >= uint64(f.maxDeliver)
}

// safeDecide is decide on a user's error, whose Is, As or Unwrap methods may panic: a panic
// dead-letters the message as a panic of the work func.
func (f *Feed[K, T]) safeDecide(err error, h held[T]) (fa fate, reason string, cause error) {
	defer func() {
		if p := recover(); p != nil {
			fa, reason = fateDeadLetter, ReasonPanic
			cause = fmt.Errorf("jetstream: the work func's error %T: its Is, As or Unwrap method panicked: %w",
				err, panics.New(p))
		}
	}()
	fa, reason = decide(err, h.deliveries, f.maxDeliver, f.aborted())
	return fa, reason, err
}

// settle carries out a held message's fate (see decide) and releases its slot once that is done.
func (f *Feed[K, T]) settle(h held[T], err error) {
	if err == nil { // the common case, first: decide would say fateAck
		f.stats.processed.Add(1)
		f.acks.add(h.msg) // the acker releases the slot
		return
	}
	fa, reason, cause := f.safeDecide(err, h)
	f.stats.failed.Add(1)
	if errors.Is(cause, group.ErrRouterClosed) {
		f.fail(fmt.Errorf("jetstream: consumer %q: %w", f.consumer, cause))
	}
	switch fa {
	case fateHandBack:
		f.handBack(h)
		f.release()
	case fateDeadLetter:
		var pe *panics.Error
		if errors.As(cause, &pe) {
			cause = fmt.Errorf("%w\n\n%s", cause, pe.Stack)
		}
		f.deadLetter(h, reason, cause, true)
	default:
		f.retry(h)
		f.release()
	}
}

// retry negatively acknowledges a message with the backoff policy's delay.
func (f *Feed[K, T]) retry(h held[T]) {
	f.stats.retried.Add(1)
	if err := h.msg.NakWithDelay(f.delay(h)); err != nil {
		f.report(fmt.Errorf("jetstream: nak of message %d: %w", seqOf(h.msg), err))
	}
}

// deferMsg negatively acknowledges, with the backoff policy's delay, a message whose key holds
// its share of the in-flight slots.
func (f *Feed[K, T]) deferMsg(h held[T]) {
	f.stats.deferred.Add(1)
	if err := h.msg.NakWithDelay(f.delay(h)); err != nil {
		f.report(fmt.Errorf("jetstream: nak of message %d: %w", seqOf(h.msg), err))
	}
}

// delay is the backoff policy's delay for h. The policy is the user's: a panic in it is reported,
// and the default policy's delay is used instead.
func (f *Feed[K, T]) delay(h held[T]) (d time.Duration) {
	n := int(min(h.deliveries, math.MaxInt32))
	defer func() {
		if p := recover(); p != nil {
			f.report(fmt.Errorf("jetstream: Backoff policy for message %d: %w", seqOf(h.msg), panics.New(p)))
			d = defaultBackoff(n)
		}
	}()
	return f.opts.backoff(n)
}

// handBack negatively acknowledges a message without delay, for another process to take it.
func (f *Feed[K, T]) handBack(h held[T]) {
	f.stats.handedBack.Add(1)
	if err := h.msg.Nak(); err != nil {
		f.report(fmt.Errorf("jetstream: nak of message %d: %w", seqOf(h.msg), err))
	}
}

// giveBack settles a message the run ends with: handed back, or dead-lettered on its last
// delivery. slot says whether it holds a slot, which is released once it is settled.
func (f *Feed[K, T]) giveBack(h held[T], slot bool) {
	if f.last(h) {
		f.deadLetter(h, ReasonUnfinished, errUnfinished, slot)
		return
	}
	f.handBack(h)
	if slot {
		f.release()
	}
}

var errUnfinished = errors.New("jetstream: the run ended before the item finished, on the message's last delivery")

// deadLetter publishes a message with its error to the dead-letter subject, waiting for the
// stream's acknowledgement, and then terminates it; then it releases the message's slot if slot
// says it holds one. If the publication fails, the message is retried instead, so it is never
// dropped, unless this is its last delivery, which the server would not repeat: then the feed
// keeps the message (in progress, its slot held) and publishes it again every half progress
// interval, and a last time as the run ends. Its Nats-Msg-Id (stream and sequence) lets the
// dead-letter stream drop the duplicate if a message is dead-lettered twice.
func (f *Feed[K, T]) deadLetter(h held[T], reason string, cause error, slot bool) {
	out := nats.NewMsg(f.opts.deadLetter)
	out.Data = h.msg.Data()
	for name, values := range h.msg.Headers() {
		if !strings.HasPrefix(name, "Nats-") {
			out.Header[name] = values
		}
	}
	seq := seqOf(h.msg)
	out.Header.Set(nats.MsgIdHdr, f.stream+"."+strconv.FormatUint(seq, 10))
	out.Header.Set(HeaderReason, reason)
	out.Header.Set(HeaderError, errorText(cause))
	out.Header.Set(HeaderStream, f.stream)
	out.Header.Set(HeaderConsumer, f.consumer)
	out.Header.Set(HeaderSubject, h.msg.Subject())
	out.Header.Set(HeaderSequence, strconv.FormatUint(seq, 10))
	out.Header.Set(HeaderDeliveries, strconv.FormatUint(h.deliveries, 10))
	km := keptMsg[T]{h: h, out: out, reason: reason, slot: slot}
	if f.last(h) {
		if err := f.publishLast(km); err != nil {
			f.keep(km)
		}
		return
	}
	if _, err := f.js.PublishMsg(f.publishContext(), out); err != nil {
		f.report(fmt.Errorf("jetstream: dead-lettering message %d to %q: %w", seq, f.opts.deadLetter, err))
		f.retry(h)
		f.unhold(slot)
		return
	}
	f.terminate(km)
}

// terminate counts a message as dead-lettered, terminates it and releases it.
func (f *Feed[K, T]) terminate(km keptMsg[T]) {
	f.stats.deadLettered.Add(1)
	if err := km.h.msg.TermWithReason(km.reason); err != nil {
		f.report(fmt.Errorf("jetstream: terminating message %d: %w", seqOf(km.h.msg), err))
	}
	f.unhold(km.slot)
}

// unhold releases a settled message's slot, if it holds one.
func (f *Feed[K, T]) unhold(slot bool) {
	if slot {
		f.release()
	}
}

// errorText is err's text; a panic in its Error method (a typed nil is the usual way) gives a
// text that says so instead.
func errorText(err error) (s string) {
	defer func() {
		if p := recover(); p != nil {
			s = fmt.Sprintf("jetstream: a %T whose Error method panicked: %v", err, p)
		}
	}()
	return err.Error()
}

// publishContext is the context of a dead-letter publication: the run's work context, so that an
// aborting run does not wait for it (the client bounds it with its default timeout).
func (f *Feed[K, T]) publishContext() context.Context {
	if f.workCtx == nil {
		return context.Background()
	}
	return f.workCtx
}

// report tells the OnError func of an error the run survives; a panic in it ends the run.
func (f *Feed[K, T]) report(err error) {
	if f.opts.onError == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			f.fail(fmt.Errorf("jetstream: OnError: %w", panics.New(p)))
		}
	}()
	f.opts.onError(err)
}

// consumeError is the client's error handler of the consumption. Errors that can mean the
// consumer is gone (its pull requests find no responder, heartbeats stop) make the watcher check.
func (f *Feed[K, T]) consumeError(_ natsjs.ConsumeContext, err error) {
	f.report(fmt.Errorf("jetstream: consumer %q on stream %q: %w", f.consumer, f.stream, err))
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, natsjs.ErrNoHeartbeat) ||
		errors.Is(err, natsjs.ErrConsumerNotFound) || errors.Is(err, natsjs.ErrConsumerDeleted) {
		select {
		case f.check <- struct{}{}:
		default:
		}
	}
}

func seqOf(m natsjs.Msg) uint64 {
	meta, err := m.Metadata()
	if err != nil {
		return 0
	}
	return meta.Sequence.Stream
}
