package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

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
	ReasonDecode     = "decode"      // the decode func failed or panicked: a poison message
	ReasonPermanent  = "permanent"   // the work func returned an error marked with Permanent
	ReasonPanic      = "panic"       // the work func panicked
	ReasonMaxDeliver = "max-deliver" // the work func failed on the consumer's last delivery
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
// aborting. It returns the message's fate and, for a dead letter, the reason.
func decide(err error, deliveries uint64, maxDeliver int, aborting bool) (fate, string) {
	var pe *panics.Error
	switch {
	case err == nil:
		return fateAck, ""
	case aborting, errors.Is(err, group.ErrRouterClosed):
		return fateHandBack, ""
	case IsPermanent(err):
		return fateDeadLetter, ReasonPermanent
	case errors.As(err, &pe):
		return fateDeadLetter, ReasonPanic
	case maxDeliver > 0 && deliveries >= uint64(maxDeliver):
		return fateDeadLetter, ReasonMaxDeliver
	default:
		return fateRetry, ""
	}
}

// settle carries out a held message's fate (see decide) and releases its slot once that is done.
func (f *Feed[K, T]) settle(h held[T], err error) {
	if err == nil { // the common case, first: decide would say fateAck
		f.stats.processed.Add(1)
		f.acks.add(h.msg) // the acker releases the slot
		return
	}
	fa, reason := decide(err, h.deliveries, f.maxDeliver, f.aborted())
	defer f.release()
	f.stats.failed.Add(1)
	switch fa {
	case fateHandBack:
		if errors.Is(err, group.ErrRouterClosed) {
			f.fail(fmt.Errorf("jetstream: consumer %q: %w", f.consumer, err))
		}
		f.handBack(h)
	case fateDeadLetter:
		var pe *panics.Error
		if errors.As(err, &pe) {
			err = fmt.Errorf("%w\n\n%s", err, pe.Stack)
		}
		f.deadLetter(h, reason, err)
	default:
		f.retry(h)
	}
}

// retry negatively acknowledges a message with the backoff policy's delay.
func (f *Feed[K, T]) retry(h held[T]) {
	f.stats.retried.Add(1)
	if err := h.msg.NakWithDelay(f.opts.backoff(int(h.deliveries))); err != nil {
		f.report(fmt.Errorf("jetstream: nak of message %d: %w", seqOf(h.msg), err))
	}
}

// handBack negatively acknowledges a message without delay, for another process to take it.
func (f *Feed[K, T]) handBack(h held[T]) {
	f.stats.handedBack.Add(1)
	if err := h.msg.Nak(); err != nil {
		f.report(fmt.Errorf("jetstream: nak of message %d: %w", seqOf(h.msg), err))
	}
}

// deadLetter publishes a message with its error to the dead-letter subject, waiting for the
// stream's acknowledgement, and then terminates it. If the publication fails, the message is
// retried instead, so it is never dropped; its Nats-Msg-Id (stream and sequence) lets the
// dead-letter stream drop the duplicate if a message is dead-lettered twice.
func (f *Feed[K, T]) deadLetter(h held[T], reason string, cause error) {
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
	out.Header.Set(HeaderError, cause.Error())
	out.Header.Set(HeaderStream, f.stream)
	out.Header.Set(HeaderConsumer, f.consumer)
	out.Header.Set(HeaderSubject, h.msg.Subject())
	out.Header.Set(HeaderSequence, strconv.FormatUint(seq, 10))
	out.Header.Set(HeaderDeliveries, strconv.FormatUint(h.deliveries, 10))
	if _, err := f.js.PublishMsg(f.publishContext(), out); err != nil {
		f.report(fmt.Errorf("jetstream: dead-lettering message %d to %q: %w", seq, f.opts.deadLetter, err))
		f.retry(h)
		return
	}
	f.stats.deadLettered.Add(1)
	if err := h.msg.TermWithReason(reason); err != nil {
		f.report(fmt.Errorf("jetstream: terminating message %d: %w", seq, err))
	}
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
