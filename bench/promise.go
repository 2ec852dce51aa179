package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/stagecoach-go/stagecoach/pipe"
)

// PromiseService is the promise design of the seed documents, built with package pipe: one
// pipeline for the whole service, a pipe.Map a stage (one worker each, as [Pipe]), fed by one
// channel that every connection sends on. Each request carries its connection's reply channel,
// and the pipeline's last step sends the result on it. A connection makes its reply channel once,
// when it connects, rather than one a request as the seeds do: that saves the promise design an
// allocation a round trip.
func PromiseService(w Workload) Server {
	p := pipe.New(context.Background())
	in := make(chan request, pipe.DefaultBuffer)
	var ch <-chan request = in
	for _, stage := range w.Stages {
		ch = pipe.Map(p, ch, func(ctx context.Context, r request) (request, error) {
			var err error
			r.it, err = stage(ctx, r.it)
			return r, err
		})
	}
	done := make(chan error, 1)
	go func() {
		done <- pipe.ForEach(p, ch, func(_ context.Context, r request) error {
			r.reply <- r.it // never blocks: the channel has room, and its client waits for this one item
			return nil
		})
	}()
	pctx := p.Context()
	return &replyServer{name: "promise pipeline", in: in, done: done, dead: pctx.Done(),
		cause: func() error { return context.Cause(pctx) }}
}

// request is one item on its way through a shared pipeline, with where its result goes.
type request struct {
	it    Item
	reply chan<- Item
}

// replyServer is the serving side both promise designs share ([PromiseService] on pipe,
// [HandService] by hand): requests go in on one channel, each with its connection's reply
// channel, and dead closes when the pipeline ends (cause says why).
type replyServer struct {
	name  string // "promise pipeline" or "hand pipeline", for errors
	in    chan request
	done  chan error
	dead  <-chan struct{}
	cause func() error
}

func (s *replyServer) Connect(context.Context, int) (Conn, error) {
	return &replyConn{s: s, reply: make(chan Item, 1)}, nil
}

// Close ends the pipeline's input and returns its outcome.
func (s *replyServer) Close() error {
	close(s.in)
	return <-s.done
}

type replyConn struct {
	s     *replyServer
	reply chan Item
}

// Call sends the request and waits for its reply, or for the end of the pipeline (a failed stage
// ends it, with its error as the cause). A Call whose ctx ends before the reply leaves the
// connection unusable: the reply still comes.
func (c *replyConn) Call(ctx context.Context, it Item) (Item, error) {
	select {
	case c.s.in <- request{it: it, reply: c.reply}:
	case <-c.s.dead:
		return it, fmt.Errorf("bench: %s: %w", c.s.name, c.s.cause())
	case <-ctx.Done():
		return it, context.Cause(ctx)
	}
	select {
	case out := <-c.reply:
		return out, nil
	case <-c.s.dead:
		return it, fmt.Errorf("bench: %s: %w", c.s.name, c.s.cause())
	case <-ctx.Done():
		return it, errors.Join(context.Cause(ctx), errors.New("bench: the connection is unusable"))
	}
}

func (c *replyConn) Close() error { return nil }
