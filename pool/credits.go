package pool

import "sync/atomic"

// credits is the reorder window of an ordered run: a worker takes a credit for every item before
// it claims it, and the consumer gives the credits back once it has delivered the items' results.
// So the items claimed and not yet delivered (running, or finished and held back behind an
// earlier one) never exceed the window.
//
// It cannot deadlock: claims follow the source's order (see feed.claim), so the item the
// consumer waits for is always claimed before any later one, and holds its credit; a worker that
// holds results it has not handed over never waits for credits (tryTake), it hands them over.
//
// Invariants: n is the number of free credits; only take and tryTake lower it, by CAS, never
// below zero; give raises it. A worker that finds none counts itself in waiters and looks again
// before it sleeps on wake; give raises n and then looks at waiters; both are sequentially
// consistent, so at least one of them sees the other. A woken worker passes the token on while
// credits and waiters remain.
type credits struct {
	n       atomic.Int64
	waiters atomic.Int32
	wake    chan struct{}
}

func newCredits(n int) *credits {
	c := &credits{wake: make(chan struct{}, 1)}
	c.n.Store(int64(n))
	return c
}

// tryTake takes up to k credits without waiting and returns how many it took.
func (c *credits) tryTake(k int) int {
	for {
		n := c.n.Load()
		if n <= 0 {
			return 0
		}
		t := min(n, int64(k))
		if c.n.CompareAndSwap(n, n-t) {
			return int(t)
		}
	}
}

// take takes between 1 and k credits, waiting for one if there is none. It returns 0 when quit
// is closed first.
func (c *credits) take(k int, quit <-chan struct{}) int {
	for {
		if t := c.tryTake(k); t > 0 {
			return t
		}
		c.waiters.Add(1)
		t := c.tryTake(k)
		if t == 0 {
			select {
			case <-c.wake:
			case <-quit:
				c.waiters.Add(-1)
				return 0
			}
		}
		if c.waiters.Add(-1) > 0 && c.n.Load() > 0 {
			c.signal()
		}
		if t > 0 {
			return t
		}
	}
}

// give returns k credits and wakes a waiting worker.
func (c *credits) give(k int) {
	c.n.Add(int64(k))
	if c.waiters.Load() > 0 {
		c.signal()
	}
}

func (c *credits) signal() {
	select {
	case c.wake <- struct{}{}:
	default: // a token is waiting already
	}
}
