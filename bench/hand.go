package bench

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"sync"
)

// HandBuffer is the capacity of every channel of the pipeline by hand ([Hand]): the blog's
// pipeline with buffered channels, and the same buffer as pipe.DefaultBuffer, so that [Hand] and
// [Pipe] differ only in what package pipe adds.
const HandBuffer = 64

// handLine is the pipeline of the seed blog post written out plainly, the reference for "channel
// per stage": a goroutine a stage (or a few, for [HandN]), channels buffered to [HandBuffer], a
// select on the context when sending, a plain range when receiving, the first error cancelling
// the context so that every goroutine returns, and a WaitGroup to wait for them.
//
// Cancellation reaches every goroutine: a sender blocked on a full channel sees ctx.Done(); a
// receiver blocked on an empty one sees its channel closed, because the goroutine upstream of it
// returns (at its next send, or when its own input closes) and closes its output as it does. So
// a sink that stops reading can cancel and wait without draining.
//
// A panic or runtime.Goexit in a stage ends that stage's goroutine; a deferred func turns it into
// the line's error (a panic with its stack), so the process survives and the sink learns of it.
type handLine[T any] struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

func newHand[T any](parent context.Context) *handLine[T] {
	ctx, cancel := context.WithCancel(parent)
	return &handLine[T]{parent: parent, ctx: ctx, cancel: cancel}
}

// fail records err if it is the first error, and cancels the line.
func (h *handLine[T]) fail(err error) {
	h.once.Do(func() {
		h.err = err
		h.cancel()
	})
}

// guard runs body, turning a panic or a Goexit of body into the line's error.
func (h *handLine[T]) guard(what string, body func()) {
	ended := false
	defer func() {
		if ended {
			return
		}
		if r := recover(); r != nil {
			h.fail(fmt.Errorf("bench: hand: %s panicked: %v\n%s", what, r, debug.Stack()))
			return
		}
		h.fail(fmt.Errorf("bench: hand: %s called runtime.Goexit", what))
	}()
	body()
	ended = true
}

// source sends the items of seq on a new channel, and closes it at the end of seq or of the line.
func (h *handLine[T]) source(seq iter.Seq[T]) <-chan T {
	out := make(chan T, HandBuffer)
	h.wg.Go(func() {
		defer close(out)
		h.guard("the source", func() {
			for v := range seq {
				select {
				case out <- v:
				case <-h.ctx.Done():
					return
				}
			}
		})
	})
	return out
}

// stage runs fn on every item of in on workers goroutines and sends the results on a new
// channel, closed once every worker has returned.
func (h *handLine[T]) stage(in <-chan T, fn func(context.Context, T) (T, error), workers int) <-chan T {
	out := make(chan T, HandBuffer)
	var stage sync.WaitGroup
	for range workers {
		stage.Go(func() {
			h.guard("a stage", func() {
				for v := range in {
					v, err := fn(h.ctx, v)
					if err != nil {
						h.fail(err)
						return
					}
					select {
					case out <- v:
					case <-h.ctx.Done():
						return
					}
				}
			})
		})
	}
	h.wg.Go(func() {
		stage.Wait()
		close(out)
	})
	return out
}

// wait waits for every goroutine of the line and returns its first error, or the cause of the
// parent context if that ended the line first.
func (h *handLine[T]) wait() error {
	h.wg.Wait()
	if h.parent.Err() != nil {
		h.fail(context.Cause(h.parent))
	}
	h.fail(nil) // nothing failed: the first event is the end, and it releases the context
	return h.err
}

// Hand runs the workload as the seed blog's pipeline written by hand (see [HandBuffer]): for each
// stream, a source goroutine and one goroutine a stage joined by channels buffered to 64, and the
// checking sink on the calling goroutine, as [Pipe] does with package pipe. W3 runs one such
// pipeline per stream, all at once.
func Hand(w Workload) error {
	errs := make([]error, w.Streams)
	var wg sync.WaitGroup
	for s := range w.Streams {
		wg.Go(func() { errs[s] = handStream(w, s, 1) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// HandN is [Hand] on stream 0 with n goroutines a stage, as [PipeN] gives each pipe.Map
// pipe.Workers(n): up to n items wait in each stage at once. HandN panics if n is below 1.
func HandN(w Workload, n int) error {
	mustConc(n)
	return handStream(w, 0, n)
}

func handStream(w Workload, s, workers int) error {
	h := newHand[Item](context.Background())
	ch := h.source(w.Source(s))
	for _, stage := range w.Stages {
		ch = h.stage(ch, stage, workers)
	}
	k := w.NewSink(s)
	for it := range ch {
		k.Add(it, nil)
	}
	err := h.wait()
	if err != nil {
		return err // the line ended early: the sink's count says nothing more
	}
	return k.Err()
}

// HandService is the promise design written by hand, the blog's pipeline serving every
// connection: one channel every connection sends its requests on, a goroutine a stage, channels
// buffered to 64, and a last goroutine that sends each result on its request's reply channel (one
// a connection, made when it connects), as [PromiseService] does with package pipe.
func HandService(w Workload) Server {
	h := newHand[request](context.Background())
	in := make(chan request, HandBuffer)
	var ch <-chan request = in
	for _, stage := range w.Stages {
		ch = h.stage(ch, func(ctx context.Context, r request) (request, error) {
			var err error
			r.it, err = stage(ctx, r.it)
			return r, err
		}, 1)
	}
	done := make(chan error, 1)
	go func() {
		for r := range ch {
			r.reply <- r.it // never blocks: the channel has room, and its client waits for this one item
		}
		done <- h.wait()
	}()
	return &replyServer{name: "hand pipeline", in: in, done: done, dead: h.ctx.Done(), cause: h.failure}
}

// failure returns the error that ended the line, once its context is done: fail sets it inside
// once.Do before it cancels, and this Do returns only after that one has.
func (h *handLine[T]) failure() error {
	h.once.Do(func() {})
	if h.err == nil {
		return context.Cause(h.ctx)
	}
	return h.err
}
