package group

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// A Group is one request group of a [Router]: a stream of items submitted by its owner, whose
// results come back to it alone. Make one with [Router.Open]. Submit and TrySubmit may be called
// from any number of goroutines; the results are read by one goroutine at a time.
type Group[K comparable, T any] struct {
	r   *Router[K, T]
	key K
	ctx context.Context
	o   groupOptions

	mu        sync.Mutex
	slots     []slot[T] // the window: one slot for every item submitted and not yet read
	free      []int     // indexes of free slots
	pending   ring      // submitted, not started, in submission order
	done      ring      // finished, not read, in completion order (unordered groups)
	order     ring      // submitted, not read, in submission order (ordered groups)
	scheduled bool      // in the router's queue, or (serial) running
	running   int
	closed    bool
	closeErr  error
	avgNs     int64 // moving average of an item's service time
	quantum   int   // most items a worker takes at once: about quantumTime of work
	finished  bool

	idleCh  chan struct{} // closed once the group will get and run no more items
	notify  chan struct{} // a token: results are ready, or the group is finished
	waiting atomic.Bool   // the reader is blocked on notify
	space   chan struct{} // a token: the window has room
	unhook  func() bool
	out     []result[T] // the reader's buffer
	unread  []result[T] // taken by a reader that broke out of its range before reading them
	stats   counters
}

type slot[T any] struct {
	v    T
	err  error
	done bool
}

type result[T any] struct {
	v   T
	err error
}

// quantumTime is how much work a worker takes from one group at a time: long enough to amortise
// the hand-over on cheap items, short enough that a new group waits for at most a few such
// quanta (one a worker) before its first item starts.
const quantumTime = 20 * time.Microsecond

const maxQuantum = 256

func newGroup[K comparable, T any](r *Router[K, T], ctx context.Context, key K, o groupOptions) *Group[K, T] {
	g := &Group[K, T]{
		r: r, key: key, ctx: ctx, o: o,
		slots:   make([]slot[T], o.window),
		free:    make([]int, o.window),
		pending: newRing(o.window),
		quantum: 4,
		notify:  make(chan struct{}, 1),
		idleCh:  make(chan struct{}),
		space:   make(chan struct{}, 1),
		out:     make([]result[T], 0, min(o.window, 64)),
	}
	for i := range g.free {
		g.free[i] = o.window - 1 - i
	}
	if o.ordered {
		g.order = newRing(o.window)
	} else {
		g.done = newRing(o.window)
	}
	g.unhook = context.AfterFunc(ctx, func() { g.abandon(context.Cause(ctx)) })
	return g
}

// Done returns a channel that is closed once the group will accept and run no more items: it is
// closed (or reclaimed, or its router closed) and no item of it is queued or running. Its results
// may still be waiting to be read.
func (g *Group[K, T]) Done() <-chan struct{} { return g.idleCh }

// Key returns the group's key.
func (g *Group[K, T]) Key() K { return g.key }

// Stats returns the group's counters.
func (g *Group[K, T]) Stats() Stats { return g.stats.snapshot() }

// Submit hands v to the group's workers. It blocks while the group's window is full, until the
// reader makes room, ctx ends (it returns ctx's cause, wrapped), or the group is closed (it returns
// [ErrGroupClosed], or [ErrRouterClosed]). An item Submit accepted always gets exactly one result.
func (g *Group[K, T]) Submit(ctx context.Context, v T) error {
	for {
		if ctx.Err() != nil {
			return fmt.Errorf("group %v: submit: %w", g.key, context.Cause(ctx))
		}
		ok, err := g.offer(v)
		if ok || err != nil {
			return err
		}
		select {
		case <-g.space:
		case <-ctx.Done():
			return fmt.Errorf("group %v: submit: %w", g.key, context.Cause(ctx))
		case <-g.ctx.Done():
			// the group is being reclaimed: the next offer reports it closed
		}
	}
}

// TrySubmit hands v to the group's workers if its window has room, and returns [ErrWindowFull]
// at once if not; it never blocks.
func (g *Group[K, T]) TrySubmit(v T) error {
	ok, err := g.offer(v)
	if !ok && err == nil {
		return fmt.Errorf("group %v: %w", g.key, ErrWindowFull)
	}
	return err
}

// offer puts v in a free slot of the window: accepted, refused with an error, or neither (full).
func (g *Group[K, T]) offer(v T) (bool, error) {
	g.mu.Lock()
	if g.closed {
		err := g.closeErr
		g.mu.Unlock()
		return false, fmt.Errorf("group %v: submit: %w", g.key, err)
	}
	n := len(g.free)
	if n == 0 {
		g.mu.Unlock()
		return false, nil
	}
	i := g.free[n-1]
	g.free = g.free[:n-1]
	g.slots[i].v = v
	g.pending.push(i)
	if g.o.ordered {
		g.order.push(i)
	}
	wake := !g.scheduled
	g.scheduled = true
	g.stats.submitted.Add(1)
	g.mu.Unlock()
	if n > 1 {
		signal(g.space) // room for another waiting submitter too
	}
	if wake {
		g.r.schedule(g)
	}
	return true, nil
}

// Close ends the group's submissions; its results end once every accepted item's result has been
// read. Close does not block, and can be called more than once. The key can be opened again at
// once.
func (g *Group[K, T]) Close() {
	g.r.forget(g) // first: once the reader sees the group finished, its key is free
	g.refuse(ErrGroupClosed)
}

// refuse closes the group to submissions with err, unless it is closed already.
func (g *Group[K, T]) refuse(err error) {
	g.mu.Lock()
	g.shut(err)
	idle := g.idle()
	g.mu.Unlock()
	g.announceClosed(idle)
}

// shut closes the group to submissions with err, unless it is closed already. g.mu is held.
func (g *Group[K, T]) shut(err error) {
	if !g.closed {
		g.closed, g.closeErr = true, err
	}
}

// announceClosed wakes the reader and any blocked submitter to see that the group is closed, and
// retires the group from the router if it will run nothing more.
func (g *Group[K, T]) announceClosed(idle bool) {
	signal(g.notify)
	signal(g.space)
	if idle {
		g.r.retire(g)
	}
}

// abandon reclaims the group when its context ends: no more submissions, and every item not yet
// started gets the context's cause as its error, so the group needs no worker time and no reader.
func (g *Group[K, T]) abandon(cause error) {
	g.r.forget(g) // first: once the reader sees the group finished, its key is free
	g.mu.Lock()
	g.shut(fmt.Errorf("%w: reclaimed: %w", ErrGroupClosed, cause))
	n := g.pending.len()
	for range n {
		i := g.pending.pop()
		g.slots[i].err = fmt.Errorf("group %v: %w", g.key, cause)
		g.finish(i)
	}
	idle := g.idle()
	g.count(n, 0, n)
	g.mu.Unlock()
	g.announceClosed(idle)
}

// finish marks slot i's result ready for the reader. g.mu is held.
func (g *Group[K, T]) finish(i int) {
	g.slots[i].done = true
	if !g.o.ordered {
		g.done.push(i)
	}
}

// count adds to the group's counters.
func (g *Group[K, T]) count(started, completed, failed int) {
	if started != 0 {
		g.stats.started.Add(int64(started))
	}
	if completed != 0 {
		g.stats.completed.Add(int64(completed))
	}
	if failed != 0 {
		g.stats.failed.Add(int64(failed))
	}
}

// idle reports whether the group will get and run no more items: closed, nothing queued, nothing
// running. g.mu is held.
func (g *Group[K, T]) idle() bool {
	return g.closed && g.pending.len() == 0 && g.running == 0
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// recovered runs the work func on v, turning a panic into v's error with the stack.
func (g *Group[K, T]) call(v T) (out T, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = v, panics.New(p)
		}
	}()
	return g.r.work(g.ctx, v)
}
