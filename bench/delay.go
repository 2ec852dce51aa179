package bench

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Delay stands in for an I/O device that answers every request after a fixed wait, without using
// the CPU meanwhile: a database or a remote service as a stage sees it. [Delay.Wait] parks the
// calling goroutine on a channel; one clock goroutine, on a thread of its own, sleeps in the
// operating system until the earliest deadline and then wakes every waiter that is due, as the
// network poller wakes the goroutines whose replies have come in.
//
// A plain time.Sleep does not do for this: when no goroutine is runnable, Go's timers on Linux
// wake through the network poller, whose timeout has millisecond granularity, so a 100 us sleep
// measures about 1.08 ms on this project's machines.
//
// Deadlines are rounded up to a multiple of [DelaySlot] and the waiters of one slot share a
// channel, which the clock closes: one wake-up call for all of them. Because every wait has the
// same length, slots come in the order of the calls and the clock keeps them in a plain queue.
//
// Make a Delay with [NewDelay] and end its clock with [Delay.Stop]. Its methods are safe for
// concurrent use; a Delay must not be copied.
type Delay struct {
	wait   time.Duration
	epoch  time.Time
	mu     sync.Mutex
	q      []slot // in deadline order, since every wait is the same length
	queued int    // waits in q's slots
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	waits  atomic.Int64 // waits that ended with their wake-up
	waited atomic.Int64 // their total length in ns, as the waiters saw it
}

// DelaySlot is the granularity of a [Delay]'s deadlines.
const DelaySlot = 4 * time.Microsecond

// slot is the waiters whose deadline rounds up to n slots after the epoch: they wait on ch.
type slot struct {
	n     int64
	ch    chan struct{}
	waits int
}

// NewDelay starts the clock of a Delay whose waits last wait. NewDelay panics if wait is not
// positive.
func NewDelay(wait time.Duration) *Delay {
	if wait <= 0 {
		panic(fmt.Sprintf("bench: a delay's wait must be positive, got %v", wait))
	}
	d := &Delay{wait: wait, epoch: time.Now(), kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go d.clock()
	return d
}

// Wait returns once the delay's wait has passed since the call (and at most [DelaySlot] more), or
// with ctx's cause if ctx ends first. After [Delay.Stop], Wait returns at once.
func (d *Delay) Wait(ctx context.Context) error {
	start := time.Now()
	n := int64((start.Sub(d.epoch) + d.wait + DelaySlot - 1) / DelaySlot)
	d.mu.Lock()
	select {
	case <-d.stop:
		d.mu.Unlock()
		return nil
	default:
	}
	first := len(d.q) == 0
	if first || d.q[len(d.q)-1].n < n {
		d.q = append(d.q, slot{n: n, ch: make(chan struct{})})
	}
	ch := d.q[len(d.q)-1].ch
	d.q[len(d.q)-1].waits++
	d.queued++
	d.mu.Unlock()
	if first {
		select {
		case d.kick <- struct{}{}:
		default:
		}
	}
	select {
	case <-ch:
		d.waited.Add(int64(time.Since(start)))
		d.waits.Add(1)
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Stop makes later waits return at once, wakes the waiters left (within one wait) and ends the
// clock; it returns once the clock has ended. It can be called more than once.
func (d *Delay) Stop() {
	d.once.Do(func() {
		d.mu.Lock()
		close(d.stop)
		d.mu.Unlock()
		<-d.done
	})
}

// Typical returns the median of n consecutive waits, one at a time: the real length of one wait
// on this machine when nothing else of the process runs, which is longer than the nominal wait by
// the clock's wake-up and the waiter's. The median, not the mean, so that a few waits stretched by
// another process do not move it. Typical panics if n is below 1.
func (d *Delay) Typical(n int) time.Duration {
	if n < 1 {
		panic(fmt.Sprintf("bench: Typical needs at least 1 wait, got %d", n))
	}
	took := make([]time.Duration, n)
	for i := range took {
		start := time.Now()
		_ = d.Wait(context.Background())
		took[i] = time.Since(start)
	}
	slices.Sort(took)
	return took[n/2]
}

// Waited returns the number of waits that ended with their wake-up so far, and their total length
// as the waiters saw it (from the call to the return, so it includes the time a woken waiter took to
// run again).
func (d *Delay) Waited() (waits int64, total time.Duration) {
	return d.waits.Load(), time.Duration(d.waited.Load())
}

// Queued returns the number of waits queued and not yet woken, counting those whose context ended.
func (d *Delay) Queued() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queued
}

// clock wakes the waiters as their deadlines pass, sleeping in the operating system in between
// (see sleepUntil), until Stop; then it wakes every waiter left.
func (d *Delay) clock() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(d.done)
	preciseSleeps()
	var due []slot
	for {
		d.mu.Lock()
		if len(d.q) == 0 {
			d.mu.Unlock()
			select {
			case <-d.kick:
				continue
			case <-d.stop:
				// A Wait that queued just before Stop may not have kicked the clock yet, or its
				// kick lost the race with stop: wake whatever is queued. Wait checks stop under
				// mu and Stop closes it under mu, so no slot is queued after this.
				for _, s := range d.takeDue(due[:0]) {
					close(s.ch)
				}
				return
			}
		}
		next := d.q[0].n
		d.mu.Unlock()
		d.sleepUntil(d.epoch.Add(time.Duration(next) * DelaySlot))
		due = d.takeDue(due[:0])
		for _, s := range due {
			close(s.ch)
		}
		clear(due)
	}
}

// sleepUntil sleeps until at, or until Stop: in naps of at most a millisecond, so that Stop ends
// even a long wait at once.
func (d *Delay) sleepUntil(at time.Time) {
	for {
		left := time.Until(at)
		if left <= 0 {
			return
		}
		select {
		case <-d.stop:
			return
		default:
		}
		nap(min(left, time.Millisecond))
	}
}

// takeDue moves the slots whose deadline has passed from the queue to due; every slot, once Stop
// was called.
func (d *Delay) takeDue(due []slot) []slot {
	now := int64(time.Since(d.epoch) / DelaySlot)
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-d.stop:
		now = math.MaxInt64
	default:
	}
	i := 0
	for i < len(d.q) && d.q[i].n <= now {
		i++
	}
	for _, s := range d.q[:i] {
		d.queued -= s.waits
	}
	due = append(due, d.q[:i]...)
	k := copy(d.q, d.q[i:])
	clear(d.q[k:])
	d.q = d.q[:k]
	return due
}
