package pipe

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// PanicError is the error a pipeline fails with (wrapped in a [StageError]) when a user func
// panicked. Fields: Value, the value passed to panic; Stack, the stack of the goroutine where it
// was recovered. Error returns one line ("panic: " and the value); %+v adds the stack.
type PanicError = panics.Error

// ErrGoexit is the error a pipeline fails with (wrapped in a [StageError]) when a user func called
// runtime.Goexit (what testing.T.FailNow does).
var ErrGoexit = panics.ErrGoexit

// StageError is the error of a pipeline that failed in one of its parts. Stage names the part:
// its kind and its position among the parts built on the pipeline, counted from 1 ("Map #2"),
// after the name given with [Name] if any ("validate (Map #2)"). Err is the error of the part's
// func, a *[PanicError], or [ErrGoexit]; errors.Is and errors.As reach it.
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string { return "pipe: " + e.Stage + ": " + e.Err.Error() }

func (e *StageError) Unwrap() error { return e.Err }

// Format prints Error for %v and %s; %+v formats Err with %+v, so a *[PanicError]'s stack shows.
func (e *StageError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('+') {
		_, _ = fmt.Fprintf(f, "pipe: %s: %+v", e.Stage, e.Err)
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), e.Error())
}

// ErrStopped is the cause of a pipeline's context (context.Cause of [Pipeline.Context]) once
// [Pipeline.Stop] has ended it: a sink that had all it wanted, or a break out of a range over
// [All] or [Values]. It is not an error of the pipeline: Wait returns nil. It wraps
// context.Canceled, so a stage func that tells shutdown from failure with
// errors.Is(context.Cause(ctx), context.Canceled) sees a shutdown.
var ErrStopped = fmt.Errorf("pipe: stopped early: %w", context.Canceled)

// ErrFinished is the cause of a pipeline's context once [Pipeline.Wait] has seen it run to its
// end: Wait cancels the context then, so that its parent lets go of it. It is not an error
// either, and it wraps context.Canceled as [ErrStopped] does.
var ErrFinished = fmt.Errorf("pipe: the pipeline finished: %w", context.Canceled)

// A Pipeline is the scope every stage of one pipeline runs in: it owns the stages' goroutines,
// records the first error, and cancels every stage when that error happens or a sink stops early.
// Make one with [New]; the zero value is not usable. A Pipeline must not be copied after first
// use.
//
// The first event that ends a pipeline is its outcome, recorded as the cause of its context: an
// error, the end of the parent context, or [Pipeline.Stop]. What goes wrong after it (a stage
// func that returns ctx.Err() once cancelled, say) is a consequence and is not reported.
type Pipeline struct {
	ctx    context.Context
	done   <-chan struct{} // ctx.Done(), read once
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	parts  atomic.Int64 // parts built on the pipeline, to number them
}

// New returns a Pipeline whose stages stop when ctx ends. New panics if ctx is nil.
func New(ctx context.Context) *Pipeline {
	if ctx == nil {
		panic("pipe: New(nil): nil context (use context.Background() or a caller's ctx)")
	}
	c, cancel := context.WithCancelCause(ctx)
	return &Pipeline{ctx: c, done: c.Done(), cancel: cancel}
}

// Context returns the context every stage func of p is given. It is cancelled when p fails, is
// stopped, or its parent ends, and at the latest when [Pipeline.Wait] returns, which releases it
// from its parent (a long-lived parent does not keep ended pipelines' contexts). Its cause
// (context.Cause) tells why: the first error, the parent's cause, [ErrStopped] or [ErrFinished].
func (p *Pipeline) Context() context.Context { return p.ctx }

// part is one part built on a pipeline (a source, a stage, a fan, a sink), named for its errors.
type part struct {
	p    *Pipeline
	kind string // "Map", "FromSeq", ...
	n    int64  // its position among the parts of p, from 1
	name string // given with Name, or ""
}

// part numbers a new part of p of the given kind; name is the one given with [Name], if any.
func (p *Pipeline) part(kind, name string) *part {
	if p == nil {
		panic(fmt.Sprintf("pipe: %s: nil *Pipeline (make one with pipe.New)", kind))
	}
	return &part{p: p, kind: kind, n: p.parts.Add(1), name: name}
}

// label is the part's name in errors: "Map #2", or "validate (Map #2)". It is made only when the
// part fails.
func (pt *part) label() string {
	if pt.name != "" {
		return fmt.Sprintf("%s (%s #%d)", pt.name, pt.kind, pt.n)
	}
	return fmt.Sprintf("%s #%d", pt.kind, pt.n)
}

// spawn starts f on a goroutine owned by the pipeline; [Pipeline.Wait] waits for it. A panic in f,
// or runtime.Goexit, fails the pipeline: a goroutine of the pipeline that runs user code must not
// crash the program, and the panic is reported where the pipeline's result is read.
func (pt *part) spawn(f func()) {
	pt.p.wg.Go(func() {
		returned := false
		defer func() {
			if !returned {
				pt.fail(panics.Caught(recover()))
			}
		}()
		f()
		returned = true
	})
}

// fail ends the pipeline with err, wrapped with the part, as its outcome, unless it has already
// ended: the first error wins, and the cancellation stops every stage.
func (pt *part) fail(err error) {
	if pt.p.ctx.Err() != nil {
		return // already ended: err is a consequence
	}
	pt.p.cancel(&StageError{Stage: pt.label(), Err: err})
}

// Stop cancels every stage of p without failing it: what a sink does when it has read all it
// wants. The cause of p's context is then [ErrStopped], unless p had ended already. It does not
// wait; [Pipeline.Wait] does. An error after Stop is not reported.
func (p *Pipeline) Stop() { p.cancel(ErrStopped) }

// Wait blocks until every goroutine of p has ended and returns p's outcome: nil if p ran to its
// end or was stopped with [Pipeline.Stop] first; else the first error, a *[StageError] wrapping a
// stage func's error, a *[PanicError] or [ErrGoexit]; or the cause of the parent context
// (context.Cause), if it ended first.
func (p *Pipeline) Wait() error {
	p.wg.Wait()
	p.cancel(ErrFinished) // release the context; the first cause wins, so an outcome stays as it was
	if err := context.Cause(p.ctx); err != ErrStopped && err != ErrFinished {
		return err
	}
	return nil
}

// ended reports whether p has ended: an atomic load once the context has been cancelled.
func (p *Pipeline) ended() bool { return p.ctx.Err() != nil }

// send delivers v on out unless p has ended first; it reports whether v was delivered. Once p has
// ended it reports false, even if out has room. When out has room, v goes without a select; the
// select on the end runs only when out is full, so a stage blocked on a full output still ends
// promptly.
func send[T any](p *Pipeline, out chan<- T, v T) bool {
	if p.ended() {
		return false
	}
	select {
	case out <- v:
		return true
	default:
	}
	select {
	case out <- v:
		return true
	case <-p.done:
		return false
	}
}
