package group

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// PanicError is the error an item gets when the work func panicked on it. Its fields are Value,
// the value passed to panic, and Stack, the stack of the worker that panicked as
// runtime/debug.Stack prints it. Error returns one line; %+v adds the stack. errors.Is and
// errors.As reach a Value that is an error.
type PanicError = panics.Error

// ErrGoexit is wrapped by the error an item gets when the work func called runtime.Goexit (as
// testing.T.FailNow does) instead of returning: the worker is replaced and the router carries on.
var ErrGoexit = panics.ErrGoexit

var (
	// ErrRouterClosed is returned by Open and Submit once the router is closed.
	ErrRouterClosed = errors.New("group: router closed")
	// ErrGroupClosed is returned by Submit once the group is closed, or reclaimed because its
	// context ended.
	ErrGroupClosed = errors.New("group: group closed")
	// ErrKeyOpen is returned by Open for a key whose group is open.
	ErrKeyOpen = errors.New("group: key already open")
	// ErrWindowFull is returned by TrySubmit when the group's window is full.
	ErrWindowFull = errors.New("group: window full")
	// ErrGroupFailed wraps the first failure of a [FailFast] group: the error its items not yet
	// started get, and the cause of the context its running work funcs were given.
	ErrGroupFailed = errors.New("group: failed fast")
)

// yieldEvery is how many batches a worker runs between yields of its processor.
const yieldEvery = 8

// A Router runs one work func on a fixed set of workers for its whole life, for any number of
// request groups (see the package documentation). Make one with [New]; it must not be copied.
// It is the [MapRouter] of a work func whose result has the type of its item.
type Router[K comparable, T any] = MapRouter[K, T, T]

// A MapRouter is a [Router] whose work func turns an In into an Out: a service's request into its
// reply. Make one with [Map]; it must not be copied. Its groups are [MapGroup]s: they submit Ins
// and read Outs, and a failed item's result is the zero Out with an *[Error] that wraps an
// *[ItemError] carrying the item as it was submitted.
type MapRouter[K comparable, In, Out any] struct {
	work func(context.Context, In) (Out, error)
	// fail is a failed item's result: the item itself for a Router, the zero Out for a
	// MapRouter, with the cause wrapped in an *Error with the key (and an *ItemError).
	fail  func(key K, v In, cause error) (Out, error)
	o     routerOptions
	epoch time.Time // the start of the router's clock (now)

	mu     sync.Mutex
	cond   sync.Cond
	ready  groupQueue[K, In, Out] // groups with items to hand out, each at most once
	groups map[K]*MapGroup[K, In, Out]
	// live are the groups that may still get or run items, and retired the counters of the
	// groups no longer live: both under liveMu, not mu, so that Stats, which walks every live
	// group, never holds the lock the workers take for every batch. nlive is len(live), written
	// under liveMu and read by workers under mu (next): retire changes it before it takes mu to
	// wake them, so a worker that saw it above 0 is woken to see it reach 0.
	liveMu sync.Mutex
	live   map[*MapGroup[K, In, Out]]struct{}
	nlive  atomic.Int64
	closed bool
	wg     sync.WaitGroup
	// weighted is set once a group with a Weight is opened: from then on every group is served in
	// the order of its virtual time (weight.go).
	weighted atomic.Bool
	// vnow is the router's virtual time in a weighted router: the largest vtime of a group a
	// worker has chosen (raised by take under mu, read by offer under a group's mu).
	vnow atomic.Int64

	retired Stats

	stores storePools[In, Out] // the windows of groups that hold items are taken from here
}

// New starts a router of workers running work. The workers run until [Router.Close]; wait for
// them with [Router.Wait]. New panics if work is nil.
func New[K comparable, T any](work func(context.Context, T) (T, error), opts ...Option) *Router[K, T] {
	if work == nil {
		panic("group: New: nil work func")
	}
	return start(work, sameItem[K, T], opts)
}

// Map starts a router of workers running work, a func whose result is of another type than its
// item, as [New] does: [MapRouter.Open] opens groups that submit Ins and read Outs. A failed
// item's result is the zero Out with an *[Error] (the group's key) wrapping an *[ItemError] that
// carries the item as it was submitted and the cause; errors.Is and errors.As reach the cause
// through both. Map panics if work is nil.
func Map[K comparable, In, Out any](work func(context.Context, In) (Out, error), opts ...Option) *MapRouter[K, In, Out] {
	if work == nil {
		panic("group: Map: nil work func")
	}
	return start(work, itemFailed[K, In, Out], opts)
}

// start starts the workers of a router running work, whose failed items' results fail makes.
func start[K comparable, In, Out any](work func(context.Context, In) (Out, error), fail func(K, In, error) (Out, error), opts []Option) *MapRouter[K, In, Out] {
	r := &MapRouter[K, In, Out]{
		work: work, fail: fail, o: newRouterOptions(opts), epoch: time.Now(),
		groups: map[K]*MapGroup[K, In, Out]{}, live: map[*MapGroup[K, In, Out]]struct{}{},
	}
	r.cond.L = &r.mu
	for range r.o.workers {
		r.wg.Go(r.worker) // owned by the router: ends after Close, once no work is left
	}
	return r
}

// Open opens the request group of key: its items go through the router's workers, and its results
// come back to it alone. The group ends with [Group.Close], or when ctx ends: then its items not
// yet started fail with ctx's cause and the group is reclaimed, even if nobody reads its results.
// Open returns an *[Error] with the key, wrapping [ErrKeyOpen] if key's group is open (a closed
// group's key can be opened again at once), [ErrRouterClosed] after Close, and ctx's cause if
// ctx has already ended. Open panics if ctx is nil.
func (r *MapRouter[K, In, Out]) Open(ctx context.Context, key K, opts ...GroupOption) (*MapGroup[K, In, Out], error) {
	if ctx == nil {
		nilContext(fmt.Sprintf("group: Open(nil, %v)", key))
	}
	if err := context.Cause(ctx); err != nil {
		return nil, &Error[K]{Key: key, Op: "open", Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, &Error[K]{Key: key, Op: "open", Err: ErrRouterClosed}
	}
	if _, ok := r.groups[key]; ok {
		return nil, &Error[K]{Key: key, Op: "open", Err: ErrKeyOpen}
	}
	o := newGroupOptions(opts)
	if o.weight > 0 {
		r.weighted.Store(true) // from now on every group of r is served by weight
	}
	g := newGroup(r, ctx, key, o)
	r.groups[key] = g
	r.liveMu.Lock()
	r.live[g] = struct{}{}
	r.nlive.Store(int64(len(r.live)))
	r.liveMu.Unlock()
	return g, nil
}

// Close stops the router taking new groups and submissions. Workers finish every item already
// submitted, so every accepted item still gets its result, and then end. Close does not wait;
// [Router.Wait] does. Close can be called more than once.
func (r *MapRouter[K, In, Out]) Close() {
	r.mu.Lock()
	r.closed = true
	groups := make([]*MapGroup[K, In, Out], 0, len(r.groups))
	for _, g := range r.groups {
		groups = append(groups, g)
	}
	r.cond.Broadcast()
	r.mu.Unlock()
	for _, g := range groups {
		g.refuse(ErrRouterClosed)
	}
}

// Wait blocks until every worker of the router has ended, which happens after [Router.Close] once
// every accepted item has its result. A work func that never returns keeps Wait from returning.
func (r *MapRouter[K, In, Out]) Wait() { r.wg.Wait() }

// Shutdown closes the router (see [Router.Close]) and waits for its workers to end, as
// [Router.Wait] does, or for ctx to end, whichever comes first. It returns nil once every worker
// has ended, and ctx's cause if ctx ended first (the workers then still finish the accepted items
// in the background). It is the one call a service needs at exit: `defer r.Shutdown(ctx)`.
// Shutdown can be called more than once. Shutdown panics if ctx is nil.
func (r *MapRouter[K, In, Out]) Shutdown(ctx context.Context) error {
	if ctx == nil {
		nilContext("group: Shutdown(nil)")
	}
	r.Close()
	done := make(chan struct{})
	go func() { // owned by Shutdown: ends when the workers have ended
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Len returns the number of open groups.
func (r *MapRouter[K, In, Out]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.groups)
}

// Stats returns the router's counters, over every group it has had. The router keeps no counter
// of its own on the hot path: it adds up its live groups' counters and those of the groups that
// are done.
func (r *MapRouter[K, In, Out]) Stats() Stats {
	r.liveMu.Lock()
	defer r.liveMu.Unlock()
	s := r.retired
	for g := range r.live {
		s = s.add(g.stats.snapshot())
	}
	return s
}

// retire folds a group that will get and run no more items into the router's totals, and lets
// the workers of a closed router leave once no group is live.
func (r *MapRouter[K, In, Out]) retire(g *MapGroup[K, In, Out]) {
	r.liveMu.Lock()
	_, live := r.live[g]
	if live {
		delete(r.live, g)
		r.retired = r.retired.add(g.stats.snapshot())
		r.nlive.Store(int64(len(r.live)))
	}
	r.liveMu.Unlock()
	r.mu.Lock()
	if r.closed {
		r.cond.Broadcast()
	}
	r.mu.Unlock()
	if live {
		g.markIdle()
		g.release()
	}
}

// forget removes g from the open groups, if it is still the group of its key.
func (r *MapRouter[K, In, Out]) forget(g *MapGroup[K, In, Out]) {
	r.mu.Lock()
	if r.groups[g.key] == g {
		delete(r.groups, g.key)
	}
	r.mu.Unlock()
}

// schedule puts g at the back of the queue of groups with work, and wakes a worker.
func (r *MapRouter[K, In, Out]) schedule(g *MapGroup[K, In, Out]) {
	r.mu.Lock()
	r.ready.push(g)
	r.cond.Signal()
	r.mu.Unlock()
}

// next claims a worker's next batch (see Group.claim) and returns its group; nil once the router
// is closed and no group has work. It waits for a group with work.
//
// The claim is made under r.mu, from the first group of the queue whose lock is free (a TryLock:
// r.mu is never held waiting for a group's lock), and the group goes back at the end of the
// queue before r.mu is released. So a group is never out of the queue while a worker waits for
// its lock: before, a worker took the front group and then locked it, and when that lock was
// busy (a submitter or reader holding it) the worker slept, for up to a time slice on a loaded
// machine, with the group out of the queue, while the other groups were served. When every
// group in reach is locked, the worker waits for the front one's lock and leaves it in the queue.
//
// Lock order: r.mu, then a TryLock of a group's mu; or a group's mu, then r.mu (schedule).
func (r *MapRouter[K, In, Out]) next(b *batch[K, In, Out]) *MapGroup[K, In, Out] {
	r.mu.Lock()
	for {
		for r.ready.len() == 0 {
			if r.closed && r.nlive.Load() == 0 {
				r.cond.Broadcast()
				r.mu.Unlock()
				return nil
			}
			r.cond.Wait()
		}
		g, locked := r.ready.take(r.weighted.Load(), &r.vnow)
		if !locked { // every group in reach is locked: wait for the front one's lock
			r.mu.Unlock()
			g.mu.Lock()
			claimed, requeue := g.claim(b, false)
			stays := !requeue && g.queued
			g.mu.Unlock()
			switch {
			case requeue:
				r.schedule(g)
			case claimed && stays:
				// g stayed in the queue: pass on the wake-up this worker may have taken, as a
				// worker that puts its group back does, even when g has nothing more to hand out
				// now. A submitter that finds g queued does not wake anyone, so without it an item
				// submitted next sat in the queue while every other worker slept, for good when
				// the running items wait on each other (CI hung once so in the fairness test). The
				// worker woken for nothing takes g out of the queue, and the next Submit schedules
				// it again. Invariant: while g is in the queue, a wake-up is owed to it or some
				// worker that will look at the queue is awake.
				r.wakeOne()
			}
			if claimed {
				return g
			}
			r.mu.Lock()
			continue
		}
		claimed, requeue := g.claim(b, true)
		g.mu.Unlock()
		if requeue {
			r.ready.push(g)
			r.cond.Signal()
		}
		if claimed {
			r.mu.Unlock()
			return g
		}
	}
}

// worker serves groups in turn: from the group at the front of the queue it takes a batch of up
// to the group's quantum of items, puts the group back at the end of the queue if it has more,
// runs the batch without holding any lock, and publishes the results to the group at once. A
// worker never blocks on a group: every result has its slot in the group's window since Submit.
func (r *MapRouter[K, In, Out]) worker() {
	r.serve(&batch[K, In, Out]{})
}

// serve is a worker's loop. A work func that calls runtime.Goexit (as testing.T.FailNow does)
// ends the worker's goroutine, which cannot be saved: its deferred func fails that item with
// ErrGoexit and starts a replacement that finishes the batch and serves on, so the router keeps
// its workers and every item still gets its result.
func (r *MapRouter[K, In, Out]) serve(b *batch[K, In, Out]) {
	defer func() {
		if b.g != nil { // a batch was cut short: the work func called runtime.Goexit
			b.goexited()
			r.wg.Go(func() { r.serve(b) }) // owned by the router, as the worker it replaces
		}
	}()
	if g := b.g; g != nil { // resuming a batch cut short
		g.runFrom(b)
		b.took = -1
		g.publish(b)
	}
	for g := r.next(b); g != nil; g = r.next(b) {
		g.run(b)
		g.publish(b)
		if b.n%yieldEvery == 0 {
			// A worker that always finds work never blocks, so on a machine with as many busy
			// workers as processors, submitters and readers would wait for the end of a time
			// slice (about 10 ms) to run. Yielding every few batches (each about quantumTime of
			// work) caps that wait near yieldEvery x quantumTime.
			runtime.Gosched()
		}
	}
	r.wakeAll()
}

func (r *MapRouter[K, In, Out]) wakeOne() {
	r.mu.Lock()
	r.cond.Signal()
	r.mu.Unlock()
}

func (r *MapRouter[K, In, Out]) wakeAll() {
	r.mu.Lock()
	r.cond.Broadcast()
	r.mu.Unlock()
}
