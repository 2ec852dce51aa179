package pipe

import (
	"context"
	"errors"
	"sync"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// PanicError is the error a pipeline fails with when a user func panicked: the panic value and
// the stack of the stage goroutine where it was recovered.
type PanicError = panics.Error

// errStopped is the cause of a pipeline's context once a sink has stopped it early; it is not an
// error of the pipeline.
var errStopped = errors.New("pipe: stopped by its sink")

// A Pipeline is the scope every stage of one pipeline runs in: it owns the stages' goroutines,
// records the first error, and cancels every stage when that error happens or a sink stops early.
// Make one with [New]; the zero value is not usable. A Pipeline must not be copied after first
// use.
type Pipeline struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	parent context.Context
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
}

// New returns a Pipeline whose stages stop when ctx ends.
func New(ctx context.Context) *Pipeline {
	c, cancel := context.WithCancelCause(ctx)
	return &Pipeline{ctx: c, cancel: cancel, parent: ctx}
}

// Context returns the context every stage func of p is given. It is cancelled when p fails, is
// stopped, or its parent ends.
func (p *Pipeline) Context() context.Context { return p.ctx }

// go starts f on a goroutine owned by p; [Pipeline.Wait] waits for it. A panic in f fails p.
func (p *Pipeline) spawn(f func()) {
	p.wg.Go(func() {
		defer p.recover()
		f()
	})
}

// recover turns a panic of a user func on a stage goroutine into p's error: the stage goroutine
// must not crash the program, and the panic is reported where the pipeline's result is read.
func (p *Pipeline) recover() {
	if v := recover(); v != nil {
		p.fail(panics.New(v))
	}
}

// fail records err as p's error if it is the first, and cancels every stage with it as the cause.
func (p *Pipeline) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
	p.cancel(err)
}

// Stop cancels every stage of p without failing it: what a sink does when it has read all it
// wants. It does not wait; [Pipeline.Wait] does.
func (p *Pipeline) Stop() { p.cancel(errStopped) }

// Wait blocks until every goroutine of p has ended and returns p's first error: a stage func's
// error, a *[PanicError], or the cause of the parent context if it ended first. A pipeline
// stopped with [Pipeline.Stop] and no error returns nil.
func (p *Pipeline) Wait() error {
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if err := context.Cause(p.parent); err != nil {
		return err
	}
	return nil
}

// send delivers v on out unless p is cancelled first; it reports whether v was delivered.
func send[T any](p *Pipeline, out chan<- T, v T) bool {
	select {
	case out <- v:
		return true
	case <-p.ctx.Done():
		return false
	}
}
