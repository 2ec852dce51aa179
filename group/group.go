package group

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecoach-go/stagecoach/internal/engine"
)

// A Group is one request group of a [Router]: a stream of items submitted by its owner, whose
// results come back to it alone. Make one with [Router.Open]. Submit and TrySubmit may be called
// from any number of goroutines; the results are read by one goroutine at a time. It is the
// [MapGroup] of a router whose work func's result has the type of its item.
type Group[K comparable, T any] = MapGroup[K, T, T]

// A MapGroup is one request group of a [MapRouter]: it submits Ins and reads Outs, and is in every
// other way a [Group]. Make one with [MapRouter.Open].
type MapGroup[K comparable, In, Out any] struct {
	r      *MapRouter[K, In, Out]
	key    K
	ctx    context.Context // passed to the work func: the Open context, or a fail-fast group's own
	done   <-chan struct{} // ctx.Done(): nil for a context that never ends, which is never checked
	cancel context.CancelCauseFunc
	o      groupOptions

	mu       sync.Mutex
	st       *store[In, Out] // the window, while the group holds items; nil when it holds none
	lastCap  int             // the capacity of the store the group last gave back
	queued   bool            // in the router's queue of groups with items to hand out
	running  int             // items claimed by workers and not yet published
	closed   bool
	closeErr error
	fullErr  error              // what TrySubmit returns when the window is full: see windowFull
	svc      engine.ServiceTime // estimate of an item's service time
	quantum  int                // most items a worker takes at once: about quantumTime of work
	claims   int                // batches claimed by workers: one in timeEvery is timed
	// vtime is the group's virtual time in a weighted router: its service time in ns over its
	// weight (weight.go). Written under mu; read by take under the router's mu only, hence an
	// atomic.
	vtime   atomic.Int64
	stamped bool // an item was submitted with a context that can end: claims check their items
	// untimed: the reader waits with no batch running, so with no rescue timer started; the
	// claim of a batch that can hold a result back starts it (rescue.go).
	untimed bool
	// waiting are the items waiting out a retry's backoff (retry.go), and timer wakes the group
	// when the first is due (timerDue, on the router's clock; 0 when not set).
	waiting  []waiting
	timer    *time.Timer
	timerDue int64
	// batches are the batches of the group being run, and rescueTimer bounds a reader's wait
	// for them (rescue.go).
	batches     []*batch[K, In, Out]
	rescueTimer *time.Timer

	// The channels below are made on first need, under mu, so that an idle group holds none:
	// closedCh and space when a submitter must wait, notify when the reader must, idleCh when
	// Done is called.
	closedCh chan struct{} // closed when the group stops taking submissions
	idleCh   chan struct{} // closed once the group will get and run no more items
	isIdle   bool          // idleCh is closed, or will be made closed
	notify   chan struct{} // a token: results are ready, or the group is finished
	space    chan struct{} // a token: the window has room
	unhook   func() bool   // stops the hook that abandons the group when its context ends
	reading  atomic.Bool   // a goroutine is ranging over Results
	out      []result[Out] // the reader's buffer
	lent     []int         // slots of the results in the reader's hands: freed once they are read
	unread   []result[Out] // results a reader took and did not read (it left its range early)
	// unreadSlots are the slots of unread, still taken.
	unreadSlots []int
	stats       counters
}

// slot is an item's place in its group's window: the item until it is run, then its result.
type slot[In, Out any] struct {
	in   In
	out  Out
	err  error
	done bool
	// What the item's start is checked against (expire.go): its submission time on the
	// router's clock, and the context it was submitted with, if that context can end.
	at    int64
	ctx   context.Context
	tries int32 // attempts made: above 0 for an item waiting to be retried (retry.go)
}

type result[Out any] struct {
	v   Out
	err error
}

// quantumTime is how much work a worker takes from one group at a time: long enough to amortise
// the hand-over on cheap items, short enough that a new group waits for at most a few such
// quanta (one a worker) before its first item starts.
const quantumTime = 20 * time.Microsecond

const maxQuantum = 256

func newGroup[K comparable, In, Out any](r *MapRouter[K, In, Out], ctx context.Context, key K, o groupOptions) *MapGroup[K, In, Out] {
	g := &MapGroup[K, In, Out]{
		r: r, key: key, ctx: ctx, o: o,
		lastCap: minStore,
		quantum: 1, // until the first items are timed: spread them over idle workers
	}
	if o.failFast {
		g.ctx, g.cancel = context.WithCancelCause(ctx)
	}
	g.done = g.ctx.Done()
	g.unhook = noHook
	if g.done != nil { // a context that can never end needs no hook: it would never run
		g.unhook = context.AfterFunc(g.ctx, func() { g.abandon(context.Cause(g.ctx)) })
	}
	return g
}

// noHook is the unhook of a group whose context can never end.
func noHook() bool { return false }

// Done returns a channel that is closed once the group will accept and run no more items: it is
// closed (or reclaimed, or its router closed) and no item of it is queued or running. Its results
// may still be waiting to be read.
func (g *MapGroup[K, In, Out]) Done() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.idleCh == nil {
		g.idleCh = make(chan struct{})
		if g.isIdle {
			close(g.idleCh)
		}
	}
	return g.idleCh
}

// markIdle closes Done's channel: the group will get and run no more items.
func (g *MapGroup[K, In, Out]) markIdle() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.isIdle {
		g.isIdle = true
		if g.idleCh != nil {
			close(g.idleCh)
		}
	}
}

// Key returns the group's key.
func (g *MapGroup[K, In, Out]) Key() K { return g.key }

// Stats returns the group's counters.
func (g *MapGroup[K, In, Out]) Stats() Stats { return g.stats.snapshot() }

// Submit hands v to the group's workers. It blocks while the group's window is full, until the
// reader makes room, ctx ends (it returns ctx's cause), or the group is closed (it returns
// [ErrGroupClosed], or [ErrRouterClosed]); each error is an *[Error] with the group's key. An
// item Submit accepted always gets exactly one result. Submit panics if ctx is nil.
//
// The window counts results not yet read, so the group's results must be read while more than a
// window of items is submitted: submit from one goroutine and range over [Group.Results] in
// another (or use [Group.TrySubmit] and read when the window is full). A goroutine that submits
// more than the window before it reads blocks until ctx ends.
func (g *MapGroup[K, In, Out]) Submit(ctx context.Context, v In) error {
	if ctx == nil {
		nilContext(fmt.Sprintf("group %v: Submit(nil, ...)", g.key))
	}
	if ctx.Err() != nil {
		return g.submitErr(context.Cause(ctx))
	}
	for {
		ok, w, err := g.offer(ctx, v)
		if ok || err != nil {
			return err
		}
		if err := g.waitRoom(ctx, w); err != nil {
			return err
		}
	}
}

// waitRoom waits, for a submitter that found the window full, until room is made (the next
// offer takes it, or finds it taken) or the group is closed (the next offer reports why); it
// returns the submission's error if ctx ends first.
func (g *MapGroup[K, In, Out]) waitRoom(ctx context.Context, w submitWait) error {
	select {
	case <-w.space:
	case <-w.closed:
	case <-ctx.Done():
		return g.submitErr(context.Cause(ctx))
	}
	return nil
}

// SubmitAll hands the items of vs to the group's workers in order, as that many calls of Submit
// would, but in runs: a run takes the group's lock once for as many items as the window has room
// for, up to 256, so a submitter that has its items in batches (a bulk request, a page read from a queue)
// pays for one hand-over a run, not one an item. It blocks while the window is full, as Submit
// does. It returns how many items it accepted, always the first n of vs, and, if it did not
// accept them all, why it stopped: ctx ended (its cause) or the group was closed
// ([ErrGroupClosed], or [ErrRouterClosed]), as an *[Error] with the group's key. Every item it
// accepted gets exactly one result; the others were not submitted. SubmitAll of no items does
// nothing. It panics if ctx is nil.
func (g *MapGroup[K, In, Out]) SubmitAll(ctx context.Context, vs []In) (int, error) {
	if ctx == nil {
		nilContext(fmt.Sprintf("group %v: SubmitAll(nil, ...)", g.key))
	}
	done := 0
	for done < len(vs) {
		if ctx.Err() != nil {
			return done, g.submitErr(context.Cause(ctx))
		}
		n, w, err := g.offerRun(ctx, vs[done], vs[done+1:])
		done += n
		if err != nil {
			return done, err
		}
		if n == 0 {
			if err := g.waitRoom(ctx, w); err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// TrySubmit hands v to the group's workers if its window has room, and returns [ErrWindowFull]
// at once if not (the same error each time, so polling allocates nothing); it never blocks.
func (g *MapGroup[K, In, Out]) TrySubmit(v In) error {
	ok, _, err := g.offer(context.Background(), v) // a context that never ends: nothing to bound the start by
	if !ok && err == nil {
		return g.windowFull()
	}
	return err
}

// windowFull returns the group's window-full error, made at the first refusal: a producer that
// polls TrySubmit allocates nothing for the refusals after it.
func (g *MapGroup[K, In, Out]) windowFull() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fullErr == nil {
		g.fullErr = g.submitErr(ErrWindowFull)
	}
	return g.fullErr
}

// submitWait is what a submitter that found the window full waits on.
type submitWait struct{ space, closed chan struct{} }

// offer puts v in a free slot of the window: accepted, refused with an error, or neither (full,
// and then what to wait on).
func (g *MapGroup[K, In, Out]) offer(ctx context.Context, v In) (bool, submitWait, error) {
	n, w, err := g.offerRun(ctx, v, nil)
	return n == 1, w, err
}

// offerRun puts first and then the items of rest, in order, in free slots of the window, as
// many as it has room for and at most maxRun, under one lock: it returns how many it accepted,
// and, if none, an error or what to wait on (full). It passes the room token on while room is left, so every
// blocked submitter gets its turn.
func (g *MapGroup[K, In, Out]) offerRun(ctx context.Context, first In, rest []In) (int, submitWait, error) {
	g.mu.Lock()
	if g.closed {
		err := g.closeErr
		g.mu.Unlock()
		return 0, submitWait{}, g.submitErr(err)
	}
	held := g.held()
	if held >= g.o.window {
		if g.space == nil {
			g.space, g.closedCh = make(chan struct{}, 1), make(chan struct{})
		}
		w := submitWait{g.space, g.closedCh}
		g.mu.Unlock()
		return 0, w, nil
	}
	if g.pending() == 0 && g.running == 0 && g.r.weighted.Load() {
		g.starts() // a backlog starts: no service banked while idle
	}
	g.place(ctx, first)
	n := 1 + min(len(rest), g.o.window-held-1, maxRun-1)
	for _, v := range rest[:n-1] {
		g.place(ctx, v)
	}
	queue := g.enqueue()
	g.stats.submitted.Add(int64(n))
	if held+n < g.o.window {
		signal(g.space) // room for another waiting submitter too
	}
	g.mu.Unlock()
	if queue {
		g.r.schedule(g)
	}
	return n, submitWait{}, nil
}

// maxRun is the most items offerRun places under one lock, so that a long SubmitAll into a large
// window holds the group's lock (and keeps its workers and reader waiting) for a few
// microseconds at a time, not for the whole window.
const maxRun = maxQuantum

// place puts v in a free slot, pending; the caller has checked the window. g.mu is held.
func (g *MapGroup[K, In, Out]) place(ctx context.Context, v In) {
	st := g.room()
	i := st.free[len(st.free)-1]
	st.free = st.free[:len(st.free)-1]
	st.slots[i].in = v
	g.stamp(&st.slots[i], ctx)
	st.pending.push(i)
	if g.o.ordered {
		st.ready.push(i)
	}
}

// held is how many items the group holds: submitted and not yet read. g.mu is held.
func (g *MapGroup[K, In, Out]) held() int {
	if g.st == nil {
		return 0
	}
	return len(g.st.slots) - len(g.st.free)
}

// room returns the group's store with a free slot in it, taking a store from the router's pool,
// or a larger one, if need be. The caller has checked the window. g.mu is held.
func (g *MapGroup[K, In, Out]) room() *store[In, Out] {
	switch {
	case g.st == nil:
		g.st = g.r.stores.get(g.lastCap)
	case len(g.st.free) == 0:
		g.st = g.r.stores.grown(g.st, capFor(g.o.window))
	}
	return g.st
}

// giveBack returns the group's store to the router's pool once the group holds no item, so that
// an idle group holds no window. g.mu is held.
func (g *MapGroup[K, In, Out]) giveBack() {
	if g.st != nil && len(g.st.free) == len(g.st.slots) {
		g.lastCap = len(g.st.slots)
		g.r.stores.put(g.st)
		g.st = nil
	}
}

// pending is how many items wait for a worker. g.mu is held.
func (g *MapGroup[K, In, Out]) pending() int {
	if g.st == nil {
		return 0
	}
	return g.st.pending.len()
}

// enqueue applies the one queueing rule, after any change to what the group has to hand out: a
// group is in the router's queue at most once (queued), and only while a worker may take an item
// of it now, that is, it has pending items and, if it is serial, none running. So a serial group
// leaves the queue while its item runs and comes back when the item is done (publish). It reports
// whether the caller must put the group in the queue (with r.schedule, once g.mu is released).
// g.mu is held.
func (g *MapGroup[K, In, Out]) enqueue() bool {
	if g.queued || g.pending() == 0 || (g.o.serial && g.busy()) || g.ctx.Err() != nil {
		return false // a group whose context has ended is reclaimed, not served
	}
	g.queued = true
	return true
}

// Close ends the group's submissions; its results end once every accepted item's result has been
// read. Close does not block, and can be called more than once. The key can be opened again at
// once.
func (g *MapGroup[K, In, Out]) Close() {
	g.r.forget(g) // first: once the reader sees the group finished, its key is free
	g.refuse(ErrGroupClosed)
}

// refuse closes the group to submissions with err, unless it is closed already.
func (g *MapGroup[K, In, Out]) refuse(err error) {
	g.mu.Lock()
	g.shut(err)
	idle := g.idle()
	g.mu.Unlock()
	if idle {
		g.r.retire(g)
	}
}

// shut closes the group to submissions with err, unless it is closed already, and wakes the
// reader and every blocked submitter to see it. g.mu is held.
func (g *MapGroup[K, In, Out]) shut(err error) {
	if !g.closed {
		g.closed, g.closeErr = true, err
		if g.closedCh != nil {
			close(g.closedCh)
		}
		signal(g.notify)
	}
}

// abandon reclaims the group when its context ends (or, for a fail-fast group, when its first
// item fails): no more submissions, and every item not yet started gets the cause as its error,
// so the group needs no worker time and no reader.
func (g *MapGroup[K, In, Out]) abandon(cause error) {
	g.r.forget(g) // first: once the reader sees the group finished, its key is free
	g.mu.Lock()
	g.shut(fmt.Errorf("%w: %w", ErrGroupClosed, cause))
	n := g.pending()
	for range n {
		i := g.st.pending.pop()
		s := &g.st.slots[i]
		s.out, s.err = g.result(s.in, cause)
		g.finish(i)
	}
	n += g.failWaiting(cause)
	idle := g.idle()
	g.count(n, 0, n)
	signal(g.notify) // the failed items are ready (shut signalled only if the group was open)
	g.mu.Unlock()
	if idle {
		g.r.retire(g)
	}
}

// finish marks slot i's result ready for the reader. g.mu is held.
func (g *MapGroup[K, In, Out]) finish(i int) {
	g.st.slots[i].done = true
	if !g.o.ordered {
		g.st.ready.push(i)
	}
}

// count adds to the group's counters.
func (g *MapGroup[K, In, Out]) count(started, completed, failed int) {
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
func (g *MapGroup[K, In, Out]) idle() bool {
	return g.closed && g.pending() == 0 && g.running == 0 && len(g.waiting) == 0
}

// busy reports whether an item of the group is running or waiting to be retried: a serial group
// starts no other item then. g.mu is held.
func (g *MapGroup[K, In, Out]) busy() bool { return g.running > 0 || len(g.waiting) > 0 }

// release lets go of what the group holds in its context once it will run nothing more: the hook
// that reclaims it, and a fail-fast group's own context.
func (g *MapGroup[K, In, Out]) release() {
	g.unhook()
	g.mu.Lock()
	if g.timer != nil {
		g.timer.Stop()
	}
	g.mu.Unlock()
	if g.cancel != nil {
		g.cancel(ErrGroupClosed)
	}
}

// signal leaves a token in c, a channel of capacity 1, if there is none; c may be nil.
func signal(c chan struct{}) {
	if c == nil {
		return
	}
	select {
	case c <- struct{}{}:
	default:
	}
}
