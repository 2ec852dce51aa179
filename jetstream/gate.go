package jetstream

import "sync"

// gate bounds the messages the feed holds. The consumer's one delivery goroutine takes a slot for
// each message and waits while all are taken; settling a message frees its slot. A waiting
// deliverer is woken only once a quarter of the slots are free again, not on every freed slot:
// with the feed full, as it is under load, a wake-up a message would cost more than the message.
type gate struct {
	mu      sync.Mutex
	held    int
	max     int
	low     int  // wake the deliverer once held is down to this
	waiting bool // the deliverer waits for wake
	wake    chan struct{}
}

func newGate(max int) *gate {
	return &gate{max: max, low: max - max/4 - 1, wake: make(chan struct{}, 1)}
}

// acquire takes a slot, waiting for one unless abort is closed first; it reports whether it took
// one.
func (g *gate) acquire(abort <-chan struct{}) bool {
	g.mu.Lock()
	for g.held >= g.max {
		g.waiting = true
		g.mu.Unlock()
		select {
		case <-g.wake:
		case <-abort:
			return false
		}
		g.mu.Lock()
	}
	g.held++
	g.mu.Unlock()
	return true
}

// free returns the slots not taken.
func (g *gate) free() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max - g.held
}

// release frees n slots.
func (g *gate) release(n int) {
	g.mu.Lock()
	g.held -= n
	wake := g.waiting && g.held <= g.low
	if wake {
		g.waiting = false
	}
	g.mu.Unlock()
	if wake {
		select {
		case g.wake <- struct{}{}:
		default:
		}
	}
}
