package pool

import (
	"sync"
	"sync/atomic"
)

// The feed hands items from the one goroutine that reads the source (the producer) to the workers,
// with no lock and no channel operation per item.
//
// High-level idea: the producer writes items into fixed-size chunks and publishes each one with a
// single atomic add on the chunk's state word, which packs the published count (high 32 bits)
// and the taken count (low 32 bits). A worker claims a run of published items with one
// compare-and-swap on the same word, so one claim covers many items when the producer is ahead
// (batching) and a single item when it is slow (no waiting to fill a batch). Chunks form a linked
// list from head (the oldest with unclaimed items) to the producer's tail, and are recycled through
// a bounded free list once every claimed item was processed and the head has moved past them, so
// the number of chunks, and with it memory, is bounded: the producer waits for a free chunk.
//
// Idle workers sleep on a sync.Cond. The producer publishes and then looks at the idle count; a
// worker counts itself idle and then looks for items; both are sequentially consistent atomics,
// so at least one of them sees the other and no item is left with every worker asleep.
type feed[T any] struct {
	head   atomic.Pointer[chunk[T]]
	closed atomic.Bool // the producer has published its last item
	idle   atomic.Int32

	mu       sync.Mutex // guards the sleep of idle workers only
	cond     sync.Cond
	stopping atomic.Bool // wake sleepers for good

	free chan *chunk[T] // recycled chunks; its capacity bounds the chunks in use

	// producer only
	tail *chunk[T]
	n    int    // items in tail
	made int    // chunks allocated
	seq  uint64 // sequence number of the next item
}

type chunk[T any] struct {
	state atomic.Uint64 // published<<32 | taken
	refs  atomic.Int32  // claimed-but-unprocessed and unclaimed items, plus one for the head
	next  atomic.Pointer[chunk[T]]
	base  uint64 // sequence number of items[0]
	items [chunkSize]T
}

func newFeed[T any](maxChunks int) *feed[T] {
	f := &feed[T]{free: make(chan *chunk[T], maxChunks)}
	f.cond.L = &f.mu
	f.tail = f.newChunk(0)
	f.made = 1
	f.head.Store(f.tail)
	return f
}

func (f *feed[T]) newChunk(base uint64) *chunk[T] {
	c := new(chunk[T])
	c.reset(base)
	return c
}

// reset prepares a chunk for reuse. The state is stored last: a worker that claims from the chunk
// has read the new state, and so sees the new base and refs.
func (c *chunk[T]) reset(base uint64) {
	c.base = base
	c.refs.Store(chunkSize + 1)
	c.next.Store(nil)
	c.state.Store(0)
}

// push publishes v. It reports false, without publishing, when the run stopped while the producer
// waited for a free chunk.
func (f *feed[T]) push(v T, quit <-chan struct{}) bool {
	if f.n == chunkSize && !f.grow(quit) {
		return false
	}
	f.tail.items[f.n] = v
	f.n++
	f.seq++
	f.tail.state.Add(1 << 32)
	if f.idle.Load() > 0 {
		f.wake(false)
	}
	return true
}

// grow links a fresh chunk after the full tail, waiting for one to be recycled when the bound on
// chunks is reached.
func (f *feed[T]) grow(quit <-chan struct{}) bool {
	var c *chunk[T]
	select {
	case c = <-f.free:
	default:
		if f.made < cap(f.free) {
			f.made++
			c = new(chunk[T])
		} else {
			select {
			case c = <-f.free:
			case <-quit:
				return false
			}
		}
	}
	c.reset(f.seq)
	f.tail.next.Store(c)
	f.tail, f.n = c, 0
	return true
}

// close marks the end of the source and wakes every sleeping worker to see it.
func (f *feed[T]) close() {
	f.closed.Store(true)
	f.wake(true)
}

// stop wakes every sleeping worker for good, to see that the run is over.
func (f *feed[T]) stop() {
	f.stopping.Store(true)
	f.wake(true)
}

func (f *feed[T]) wake(all bool) {
	f.mu.Lock()
	if all {
		f.cond.Broadcast()
	} else {
		f.cond.Signal()
	}
	f.mu.Unlock()
}

// claim takes up to limit published items for one worker, sharing what is there with the other
// workers (it takes at most a 1/workers share, rounded up). It reports ok false when nothing is
// published now.
func (f *feed[T]) claim(limit, workers int) (c *chunk[T], lo, hi int, ok bool) {
	for {
		c = f.head.Load()
		st := c.state.Load()
		pub, taken := int(st>>32), int(uint32(st))
		if taken < pub {
			k := min(limit, (pub-taken+workers-1)/workers)
			if c.state.CompareAndSwap(st, st+uint64(k)) {
				return c, taken, taken + k, true
			}
			continue
		}
		next := c.next.Load()
		if taken < chunkSize || next == nil {
			return nil, 0, 0, false
		}
		if f.head.CompareAndSwap(c, next) {
			f.release(c, 1)
		}
	}
}

// release records that k items (or, with k = 1 from the head's move, the head's reference) of c
// are done with; the last release recycles c.
func (f *feed[T]) release(c *chunk[T], k int) {
	if c.refs.Add(int32(-k)) == 0 {
		f.free <- c // never blocks: at most cap(f.free) chunks exist
	}
}

// wait blocks an idle worker until items may be there, the source has ended, or the run stops.
// It reports false when the worker should exit: the source ended and every item was claimed, or
// the run stopped.
func (f *feed[T]) wait() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.idle.Add(1)
	defer f.idle.Add(-1)
	for {
		if f.stopping.Load() {
			return false
		}
		closed := f.closed.Load() // read before looking for items: they were published before
		if f.available() {
			return true
		}
		if closed {
			return false
		}
		f.cond.Wait()
	}
}

// available reports whether a claim could find items now.
func (f *feed[T]) available() bool {
	c := f.head.Load()
	st := c.state.Load()
	pub, taken := int(st>>32), int(uint32(st))
	return taken < pub || (taken == chunkSize && c.next.Load() != nil)
}
