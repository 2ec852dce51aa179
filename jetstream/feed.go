package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/stagecoach-go/stagecoach/group"
)

var (
	// ErrDisconnected is wrapped by the error [Feed.Run] returns when the connection to the server
	// stayed lost for longer than [DisconnectTimeout], or was closed for good.
	ErrDisconnected = errors.New("jetstream: disconnected")
	// ErrDrainTimeout is the cause the work's context is cancelled with when a graceful shutdown
	// outlasts [DrainTimeout].
	ErrDrainTimeout = errors.New("jetstream: drain timeout")
	// ErrConsumeStopped is wrapped by the error [Feed.Run] returns when the client stopped
	// consuming on its own, for example because the consumer was deleted.
	ErrConsumeStopped = errors.New("jetstream: consume stopped")
)

// A Feed consumes one durable JetStream consumer and runs every message through a
// [group.Router], one serial group per key (see the package documentation). Make one with [New]
// and start it with [Feed.Run]; a Feed runs once. It must not be copied.
type Feed[K comparable, T any] struct {
	js       natsjs.JetStream
	cons     natsjs.Consumer
	stream   string
	consumer string
	router   *group.Router[K, T]
	decode   func(natsjs.Msg) (K, T, error)
	opts     options

	maxDeliver int
	progress   time.Duration

	slots   *gate         // the in-flight bound
	abort   chan struct{} // closed when the run aborts: the dispatcher stops waiting for slots
	fatal   chan error    // the first error that ends the run
	check   chan struct{} // asks the watcher to check that the consumer still exists
	started atomic.Bool
	workCtx context.Context
	readers sync.WaitGroup
	acks    *acker

	in          chan held[T] // from the delivery goroutine to the dispatcher
	inMu        sync.RWMutex // read-locked by a send on in, locked to close it
	inClosed    bool
	dispatchers sync.WaitGroup
	dispatched  chan struct{} // closed once in is closed and the dispatchers ended; Run's own

	// kept holds the messages on their last delivery whose dead-letter publication failed: the
	// watcher publishes them again, and the end of the run a last time (see deadLetter).
	keptMu     sync.Mutex
	kept       []keptMsg[T]
	keptEmpty  chan struct{} // signalled when kept empties
	keptBusy   bool          // a goroutine is publishing kept messages
	keptClosed bool          // the run's last attempt has begun: nothing is kept any more
	keptWG     sync.WaitGroup

	mu      sync.Mutex
	keys    map[K]*key[K, T]
	idle    idleList[K, T]
	closing bool // the consumer has drained: groups close as they empty, none opens

	stats counters
}

// New looks up consumer on stream and returns a Feed that will run its messages through r.
// decode turns a message into its group key and the item submitted to r; an error (or a panic)
// makes the message poison: it is dead-lettered with that error and terminated, once. The
// consumer must be a durable pull consumer with explicit acknowledgement; r's work func then
// processes the items, and its errors decide each message's fate (see the package documentation).
//
// New returns an error naming the stream or the consumer if it does not exist, and naming the
// dead-letter subject if no stream captures it. It panics if ctx, js, r or decode is nil.
func New[K comparable, T any](ctx context.Context, js natsjs.JetStream, stream, consumer string,
	r *group.Router[K, T], decode func(natsjs.Msg) (K, T, error), opts ...Option,
) (*Feed[K, T], error) {
	switch {
	case ctx == nil:
		panic("jetstream: New with a nil context (use context.Background() or a caller's ctx)")
	case js == nil:
		panic("jetstream: New with a nil JetStream")
	case r == nil:
		panic("jetstream: New with a nil Router")
	case decode == nil:
		panic("jetstream: New with a nil decode func")
	}
	cons, err := js.Consumer(ctx, stream, consumer)
	if err != nil {
		return nil, fmt.Errorf("jetstream: stream %q, consumer %q: %w", stream, consumer, err)
	}
	info := cons.CachedInfo()
	if info.Config.AckPolicy != natsjs.AckExplicitPolicy {
		return nil, fmt.Errorf("jetstream: consumer %q on stream %q: ack policy %v, want explicit",
			consumer, stream, info.Config.AckPolicy)
	}
	o := newOptions(opts)
	if o.deadLetter == "" {
		o.deadLetter = "deadletter." + stream + "." + consumer
	}
	if _, err := js.StreamNameBySubject(ctx, o.deadLetter); err != nil {
		return nil, fmt.Errorf("jetstream: dead-letter subject %q: no stream captures it: %w", o.deadLetter, err)
	}
	f := &Feed[K, T]{
		js: js, cons: cons, stream: stream, consumer: consumer, router: r, decode: decode, opts: o,
		maxDeliver: info.Config.MaxDeliver,
		slots:      newGate(o.maxInFlight),
		abort:      make(chan struct{}),
		fatal:      make(chan error, 1),
		check:      make(chan struct{}, 1),
		keys:       make(map[K]*key[K, T]),
		keptEmpty:  make(chan struct{}, 1),
		in:         make(chan held[T], dispatchBuffer),
	}
	f.progress, f.opts.backoff = timings(info.Config, o)
	return f, nil
}

// defaultBackoff is the backoff policy of a consumer without a BackOff list, and the one used
// when the user's policy panics.
var defaultBackoff = Exponential(time.Second, time.Minute)

// timings derives the progress interval and the backoff policy from the consumer's config where
// the options leave them unset.
func timings(c natsjs.ConsumerConfig, o options) (time.Duration, func(int) time.Duration) {
	progress, backoff := o.progress, o.backoff
	if progress == 0 {
		shortest := c.AckWait
		for _, d := range c.BackOff {
			shortest = min(shortest, d)
		}
		if shortest <= 0 {
			shortest = 30 * time.Second // the server's default AckWait
		}
		progress = max(shortest/3, time.Millisecond)
	}
	if backoff == nil {
		backoff = defaultBackoff
		if len(c.BackOff) > 0 {
			backoff = backoffList(c.BackOff)
		}
	}
	return progress, backoff
}

// Run consumes messages until ctx ends or the run fails, and blocks until then.
//
// When ctx ends, Run shuts down gracefully: it stops pulling, processes the messages the client
// had already pulled, lets every held item finish and settles it (acknowledged, retried or
// dead-lettered), closes its groups and returns nil. If that takes longer than [DrainTimeout], it
// cancels the work's context, hands the unfinished messages back to the server for immediate
// redelivery, and returns an error wrapping [ErrDrainTimeout].
//
// Run fails, after handing back every message it holds, with an error wrapping
// [ErrDisconnected] when the connection stays lost longer than [DisconnectTimeout], with
// [ErrConsumeStopped] when the client stops consuming on its own (the consumer was deleted), with
// [group.ErrRouterClosed] when a message meets the router closed under it, and with a *[group.PanicError] when
// the OnError func panics. A work func that never returns keeps Run from returning.
//
// Run panics if it is called more than once, or with a nil ctx.
func (f *Feed[K, T]) Run(ctx context.Context) error {
	if ctx == nil {
		panic("jetstream: Feed.Run with a nil context (use context.Background() or a caller's ctx)")
	}
	if !f.started.CompareAndSwap(false, true) {
		panic("jetstream: Feed.Run called more than once")
	}
	workCtx, cancelWork := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelWork(nil)
	f.workCtx = workCtx
	f.acks = newAcker(f.opts.maxInFlight, f.ackOne, f.releaseN)
	defer f.acks.stop() // after the readers: they may add to it until they end
	f.startDispatch()

	cc, err := f.cons.Consume(f.handle,
		natsjs.PullMaxMessages(f.opts.maxInFlight),
		natsjs.ConsumeErrHandler(f.consumeError))
	if err != nil {
		<-f.stopDispatch()
		return fmt.Errorf("jetstream: consume %q on stream %q: %w", f.consumer, f.stream, err)
	}
	w := f.startWatch()
	defer w.stop()
	// A consumer deleted between New and now would get our pull requests and answer none of them;
	// one deleted from now on ends the consumption with an error the client reports.
	f.check <- struct{}{}

	runErr := f.serve(ctx, cc)
	var drain <-chan time.Time
	if runErr == nil {
		timer := time.NewTimer(f.opts.drain)
		defer timer.Stop()
		drain = timer.C
		runErr = f.drain(cc, drain)
	}
	if runErr == nil {
		runErr = f.waitDispatched(drain)
	}
	if runErr != nil {
		f.abortRun(cancelWork, runErr)
		cc.Stop()
		f.waitConsumeClosed(cc)
		<-f.stopDispatch() // the dispatcher waits for no slot any more
	}
	f.closeGroups()
	if err := f.waitReaders(drain); err != nil {
		if runErr == nil {
			runErr = err
		}
		f.abortRun(cancelWork, err)
		f.readers.Wait() // no goroutine of the run outlives it
	}
	if runErr != nil {
		drain = nil // no more waiting: the last attempt at once
	}
	f.settleKept(drain)
	return runErr
}

// serve waits for the end of the run: nil when ctx ends, the error when the run fails.
func (f *Feed[K, T]) serve(ctx context.Context, cc natsjs.ConsumeContext) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-f.fatal:
		return err
	case <-cc.Closed():
		return fmt.Errorf("%w: consumer %q on stream %q", ErrConsumeStopped, f.consumer, f.stream)
	}
}

// drain stops pulling and waits until the client has handed over every message it had pulled.
func (f *Feed[K, T]) drain(cc natsjs.ConsumeContext, deadline <-chan time.Time) error {
	cc.Drain()
	select {
	case <-cc.Closed():
		return nil
	case err := <-f.fatal:
		return err
	case <-deadline:
		return fmt.Errorf("jetstream: draining consumer %q: %w", f.consumer, ErrDrainTimeout)
	}
}

// waitDispatched waits until the dispatcher has handed every message the client delivered to
// its key (see stopDispatch).
func (f *Feed[K, T]) waitDispatched(deadline <-chan time.Time) error {
	select {
	case <-f.stopDispatch():
		return nil
	case err := <-f.fatal:
		return err
	case <-deadline:
		return fmt.Errorf("jetstream: dispatching pulled messages: %w", ErrDrainTimeout)
	}
}

// waitConsumeClosed waits a little for the client to stop calling the handler after Stop; the
// handler hands back anything it still gets once the run is aborted, so this is not needed for
// correctness, only for a quiet end.
func (f *Feed[K, T]) waitConsumeClosed(cc natsjs.ConsumeContext) {
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-cc.Closed():
	case <-t.C:
	}
}

// waitReaders waits for every group's reader to settle its messages and end.
func (f *Feed[K, T]) waitReaders(deadline <-chan time.Time) error {
	done := make(chan struct{})
	go func() { f.readers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-deadline:
		return fmt.Errorf("jetstream: finishing held messages: %w", ErrDrainTimeout)
	case err := <-f.fatal:
		return err
	}
}

// abortRun hands every held message back: the dispatcher stops waiting for slots, and the
// groups' context is cancelled, so their queued items fail and are negatively acknowledged.
func (f *Feed[K, T]) abortRun(cancelWork context.CancelCauseFunc, cause error) {
	select {
	case <-f.abort:
	default:
		close(f.abort)
	}
	cancelWork(cause)
}

// fail ends the run with err unless it is already ending with another error.
func (f *Feed[K, T]) fail(err error) {
	select {
	case f.fatal <- err:
	default:
	}
}

func (f *Feed[K, T]) aborted() bool {
	select {
	case <-f.abort:
		return true
	default:
		return false
	}
}
