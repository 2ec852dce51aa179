package group

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// A RetryPolicy says which failed items of a group go back to its queue to be run again, how
// many times, and after what wait (see [Retry]).
type RetryPolicy struct {
	// Attempts is the most times an item runs, its first run included: at least 1 (1 retries
	// nothing).
	Attempts int
	// Backoff is the wait before an item's first retry; each further retry waits twice as
	// long, up to MaxBackoff. Each wait is drawn at random between half of it and all of it
	// (jitter), so that items that failed together do not all come back at once. At least 0.
	Backoff time.Duration
	// MaxBackoff bounds each wait; 0 sets no bound. At least 0.
	MaxBackoff time.Duration
	// Retryable reports whether an item that failed with err may run again; nil means
	// [IsRetryable]: the work func marked the error with [Retryable].
	Retryable func(err error) bool
}

// Retry runs the group's items again when they fail with an error the policy calls retryable
// (by default one the work func wrapped with [Retryable]): the item goes back to its group's
// queue after its backoff, and the worker moves on to other work meanwhile (no worker waits out
// a backoff). It runs at most p.Attempts times; an item still failing then, or failing with an
// error that is not retryable, gets its last error as its one result, which names the attempts
// made ("after 3 attempts"). Results keep their order in an [Ordered] group, and a [Serial]
// group starts no other item while one waits to be retried. [Stats] counts the retries in
// Retried. A panic, a runtime.Goexit, or the group's context ending is never retried. In a
// [FailFast] group retries do not apply: a retryable error fails the group at once, as any
// error does. Retry panics if p.Attempts is below 1 or a backoff is negative, naming the value.
func Retry(p RetryPolicy) GroupOption {
	switch {
	case p.Attempts < 1:
		panic(fmt.Sprintf("group: Retry: Attempts %d: must be at least 1", p.Attempts))
	case p.Backoff < 0:
		panic(fmt.Sprintf("group: Retry: Backoff %v: must not be negative", p.Backoff))
	case p.MaxBackoff < 0:
		panic(fmt.Sprintf("group: Retry: MaxBackoff %v: must not be negative", p.MaxBackoff))
	}
	if p.Retryable == nil {
		p.Retryable = IsRetryable
	}
	return groupOption(func(o *groupOptions) { o.retry = &p })
}

// Retryable marks err as transient, for a group with [Retry] and the default policy: the item
// that failed with it may run again. errors.Is and errors.As reach err through it. Retryable of
// nil is nil.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &retryableError{err}
}

// IsRetryable reports whether err, or an error it wraps, was marked with [Retryable].
func IsRetryable(err error) bool {
	var re *retryableError
	return errors.As(err, &re)
}

type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// AttemptsError is the cause of the failure of an item that ran more than once: how many times
// it ran, and its last error, which errors.Is and errors.As reach.
type AttemptsError struct {
	Attempts int
	Err      error
}

func (e *AttemptsError) Error() string {
	if e.Attempts == 1 {
		return fmt.Sprintf("%v (after 1 attempt)", e.Err)
	}
	return fmt.Sprintf("%v (after %d attempts)", e.Err, e.Attempts)
}

// Unwrap returns the last error.
func (e *AttemptsError) Unwrap() error { return e.Err }

// waiting is an item waiting out its backoff: its slot, and when it may run again on the
// router's clock.
type waiting struct {
	slot int
	due  int64
}

// retry decides, at publish, what becomes of the item of slot s that failed with err on its
// latest attempt: it returns true if the item goes back to wait out its backoff (and puts it
// there), or the error of its result, which names its attempts if it made more than one. It does
// not retry a fail-fast group's item, a panic or a Goexit, or once the group's context has
// ended. now is read once a batch, if needed. g.mu is held.
func (g *MapGroup[K, In, Out]) retry(s *slot[In, Out], i int, err error, now *int64) (bool, error) {
	if _, given := err.(*AttemptsError); given {
		return false, err // a retry given up before it ran (expire.go): it names its attempts
	}
	p := g.o.retry
	attempts := int(s.tries) + 1
	if p != nil && !g.o.failFast && attempts < p.Attempts && g.ctx.Err() == nil && !notRetried(err) && p.Retryable(err) {
		s.tries++
		if *now == 0 {
			*now = g.r.now()
		}
		g.waiting = append(g.waiting, waiting{i, *now + int64(backoff(p, attempts))})
		g.armRetries(*now)
		return true, nil
	}
	if attempts > 1 {
		err = &AttemptsError{Attempts: attempts, Err: err}
	}
	return false, err
}

// notRetried reports whether err is one that is never retried: a panic, a Goexit, or an item
// that expired before it started.
func notRetried(err error) bool {
	var pe *PanicError
	return errors.As(err, &pe) || errors.Is(err, ErrGoexit) || errors.Is(err, ErrExpired)
}

// backoff is the wait before an item's retry after its attempts-th failed attempt: Backoff
// doubled for each attempt after the first, at most MaxBackoff, drawn between half and all of it.
func backoff(p *RetryPolicy, attempts int) time.Duration {
	d := p.Backoff
	for range attempts - 1 {
		if d > time.Duration(1<<62)/2 {
			break
		}
		d *= 2
	}
	if p.MaxBackoff > 0 {
		d = min(d, p.MaxBackoff)
	}
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// armRetries sets the group's timer to wake it when its first waiting item is due, if it is not
// set to wake it sooner. The timer's func runs on a goroutine of the runtime's, owned by the
// group: it moves the items that are due back to the queue, and ends. g.mu is held.
func (g *MapGroup[K, In, Out]) armRetries(now int64) {
	due := g.waiting[0].due
	for _, w := range g.waiting {
		due = min(due, w.due)
	}
	if g.timer != nil && g.timerDue != 0 && g.timerDue <= due {
		return
	}
	g.timerDue = due
	d := time.Duration(max(0, due-now))
	if g.timer == nil {
		g.timer = time.AfterFunc(d, g.wakeRetries)
		return
	}
	g.timer.Reset(d)
}

// wakeRetries moves the group's waiting items that are due back to its queue: to the front for
// a serial group, whose next item is the one waiting, to the back for the others (an ordered
// group's results keep their order whatever the order its items run in).
func (g *MapGroup[K, In, Out]) wakeRetries() {
	g.mu.Lock()
	g.timerDue = 0
	now := g.r.now()
	kept := g.waiting[:0]
	for _, w := range g.waiting {
		switch {
		case w.due > now:
			kept = append(kept, w)
		case g.o.serial:
			g.st.pending.pushFront(w.slot)
		default:
			g.st.pending.push(w.slot)
		}
	}
	clear(g.waiting[len(kept):])
	g.waiting = kept
	if len(g.waiting) > 0 {
		g.armRetries(now)
	}
	queue := g.enqueue()
	g.mu.Unlock()
	if queue {
		g.r.schedule(g)
	}
}

// failWaiting fails every waiting item with cause, when the group's context ends. g.mu is held.
// It returns how many failed.
func (g *MapGroup[K, In, Out]) failWaiting(cause error) int {
	n := len(g.waiting)
	for _, w := range g.waiting {
		s := &g.st.slots[w.slot]
		s.out, s.err = g.result(s.in, &AttemptsError{Attempts: int(s.tries), Err: cause})
		g.finish(w.slot)
	}
	g.waiting = g.waiting[:0]
	if g.timer != nil {
		g.timer.Stop()
		g.timerDue = 0
	}
	return n
}
