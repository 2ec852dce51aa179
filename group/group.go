package group

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A Group is one request group of a [Router]: a stream of items submitted by its owner, whose
// results come back to it alone. Make one with [Router.Open]. Submit and TrySubmit may be called
// from any number of goroutines; the results are read by one goroutine at a time.
type Group[K comparable, T any] struct {
	r      *Router[K, T]
	key    K
	ctx    context.Context // passed to the work func: the Open context, or a fail-fast group's own
	cancel context.CancelCauseFunc
	o      groupOptions

	mu       sync.Mutex
	slots    []slot[T] // the window: one slot for every item submitted and not yet read
	free     []int     // indexes of free slots
	pending  ring      // submitted, not started, in submission order
	done     ring      // finished, not read, in completion order (unordered groups)
	order    ring      // submitted, not read, in submission order (ordered groups)
	queued   bool      // in the router's queue of groups with items to hand out
	running  int       // items claimed by workers and not yet published
	closed   bool
	closeErr error
	avgNs    int64 // moving average of an item's service time
	quantum  int   // most items a worker takes at once: about quantumTime of work

	closedCh chan struct{} // closed when the group stops taking submissions
	idleCh   chan struct{} // closed once the group will get and run no more items
	notify   chan struct{} // a token: results are ready, or the group is finished
	waiting  atomic.Bool   // the reader is blocked on notify
	space    chan struct{} // a token: the window has room
	unhook   func() bool
	reading  atomic.Bool // a goroutine is ranging over Results
	out      []result[T] // the reader's buffer
	lent     []int       // slots of the results in the reader's hands: freed once they are read
	unread   []result[T] // results a reader took and did not read (it broke out of its range)
	// unreadSlots are the slots of unread, still taken.
	unreadSlots []int
	stats       counters
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
		slots:    make([]slot[T], o.window),
		free:     make([]int, o.window),
		pending:  newRing(o.window),
		quantum:  1, // until the first items are timed: spread them over idle workers
		closedCh: make(chan struct{}),
		notify:   make(chan struct{}, 1),
		idleCh:   make(chan struct{}),
		space:    make(chan struct{}, 1),
		out:      make([]result[T], 0, min(o.window, 64)),
	}
	for i := range g.free {
		g.free[i] = o.window - 1 - i
	}
	if o.ordered {
		g.order = newRing(o.window)
	} else {
		g.done = newRing(o.window)
	}
	if o.failFast {
		g.ctx, g.cancel = context.WithCancelCause(ctx)
	}
	g.unhook = context.AfterFunc(g.ctx, func() { g.abandon(context.Cause(g.ctx)) })
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
//
// The window counts results not yet read, so the group's results must be read while more than a
// window of items is submitted: submit from one goroutine and range over [Group.Results] in
// another (or use [Group.TrySubmit] and read when the window is full). A goroutine that submits
// more than the window before it reads blocks until ctx ends.
func (g *Group[K, T]) Submit(ctx context.Context, v T) error {
	if ctx.Err() != nil {
		return fmt.Errorf("group %v: submit: %w", g.key, context.Cause(ctx))
	}
	for {
		ok, err := g.offer(v)
		if ok || err != nil {
			return err
		}
		select {
		case <-g.space: // room was made: the next offer takes it, or finds it taken
		case <-g.closedCh: // the next offer reports why
		case <-ctx.Done():
			return fmt.Errorf("group %v: submit: %w", g.key, context.Cause(ctx))
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
// It passes the room token on while room is left, so every blocked submitter gets its turn.
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
	queue := g.enqueue()
	g.stats.submitted.Add(1)
	g.mu.Unlock()
	if n > 1 {
		signal(g.space) // room for another waiting submitter too
	}
	if queue {
		g.r.schedule(g)
	}
	return true, nil
}

// enqueue applies the one queueing rule, after any change to what the group has to hand out: a
// group is in the router's queue at most once (queued), and only while a worker may take an item
// of it now, that is, it has pending items and, if it is serial, none running. So a serial group
// leaves the queue while its item runs and comes back when the item is done (publish). It reports
// whether the caller must put the group in the queue (with r.schedule, once g.mu is released).
// g.mu is held.
func (g *Group[K, T]) enqueue() bool {
	if g.queued || g.pending.len() == 0 || (g.o.serial && g.running > 0) {
		return false
	}
	g.queued = true
	return true
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
		close(g.closedCh)
	}
}

// announceClosed wakes the reader and every blocked submitter to see that the group is closed,
// and retires the group from the router if it will run nothing more.
func (g *Group[K, T]) announceClosed(idle bool) {
	signal(g.notify)
	if idle {
		g.r.retire(g)
	}
}

// abandon reclaims the group when its context ends (or, for a fail-fast group, when its first
// item fails): no more submissions, and every item not yet started gets the cause as its error,
// so the group needs no worker time and no reader.
func (g *Group[K, T]) abandon(cause error) {
	g.r.forget(g) // first: once the reader sees the group finished, its key is free
	g.mu.Lock()
	g.shut(fmt.Errorf("%w: %w", ErrGroupClosed, cause))
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

// release lets go of what the group holds in its context once it will run nothing more: the hook
// that reclaims it, and a fail-fast group's own context.
func (g *Group[K, T]) release() {
	g.unhook()
	if g.cancel != nil {
		g.cancel(ErrGroupClosed)
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
