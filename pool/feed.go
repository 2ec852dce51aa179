package pool

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The feed hands items from the one goroutine that reads the source (the producer) to the workers,
// with no lock and no channel operation per item.
//
// High-level idea: the producer writes items into fixed-size chunks and publishes each one with a
// single atomic store of the chunk's published count. A worker claims a run of published items
// with one compare-and-swap on the chunk's taken count, so one claim covers many items when the
// producer is ahead (batching) and a single item when it is slow (no waiting to fill a batch). Chunks form a linked
// list from head (the oldest with unclaimed items) to the producer's tail, and are recycled through
// a bounded free list once every claimed item was processed and the head has moved past them, so
// the number of chunks, and with it memory, is bounded: the producer waits for a free chunk.
//
// Idle workers sleep on a channel of wake-up tokens. The producer publishes and then looks at the
// idle count; a worker counts itself idle and then looks for items; both are sequentially
// consistent atomics, so at least one of them sees the other and no item is left with every worker
// asleep. The producer takes one count for each token it sends, so it sends one token a sleeper,
// not one an item.
type feed[T any] struct {
	head   atomic.Pointer[chunk[T]] // written only under headMu, by advance
	headMu sync.Mutex
	closed atomic.Bool // the producer has published its last item
	_      [64]byte    // keep idle, which the producer reads on every item, on a line of its own
	idle   atomic.Int32
	_      [60]byte

	wakeCh   chan struct{} // wake-up tokens for sleeping workers
	closedCh chan struct{} // closed with closed
	stopCh   chan struct{} // closed with stopping
	stopOnce sync.Once
	stopping atomic.Bool

	free  chan *chunk[T] // recycled chunks; its capacity bounds the chunks in use
	spins int            // yields of an idle worker before it sleeps: see spins

	// producer only
	tail *chunk[T]
	n    int    // items in tail
	made int    // chunks allocated
	seq  uint64 // sequence number of the next item
}

type chunk[T any] struct {
	// pub is how many items the producer has published; only the producer writes it, on a
	// cache line of its own, so publishing does not contend with the workers' claims.
	pub atomic.Uint32
	_   [60]byte
	// state is gen<<32 | taken: how many items workers have claimed, and the generation of the
	// chunk's current use, which makes a claim from a worker that read the chunk before it was
	// recycled fail rather than take items that are not published yet.
	state atomic.Uint64
	refs  atomic.Int32 // claimed-but-unprocessed and unclaimed items, plus one for the head
	next  atomic.Pointer[chunk[T]]
	base  uint64 // sequence number of items[0]
	_     [32]byte
	items [chunkSize]T
}

func newFeed[T any](maxChunks, workers int) *feed[T] {
	f := &feed[T]{
		spins:    spins,
		free:     make(chan *chunk[T], maxChunks),
		wakeCh:   make(chan struct{}, workers),
		closedCh: make(chan struct{}),
		stopCh:   make(chan struct{}),
	}
	f.tail = new(chunk[T])
	f.tail.reset(0)
	f.made = 1
	f.head.Store(f.tail)
	if workers > runtime.GOMAXPROCS(0) {
		// More workers than processors (work that waits on I/O): an idle worker's yields would
		// only take the processor from workers with items, so idle workers sleep at once.
		f.spins = 0
	}
	return f
}

// wipe clears the items of a recycled chunk's last use, on the producer's goroutine before it
// writes the chunk's first item. The clear brings the chunk's cache lines, which the workers'
// cores read last, into the producer's cache at once, their writes overlapped. Without it the
// producer's first write to each line waited for that line behind the full fence of the item
// before's publication (push's atomic store): a cross-core round trip every few items, in the
// goroutine that bounds a run of cheap items (docs/pool.md has the measurement).
// It also lets go of what the old items pointed to once the chunk is in use again.
func (c *chunk[T]) wipe() { clear(c.items[:]) }

// reset prepares a chunk for reuse. The state is stored last: a worker that claims from the chunk
// has read the new state, and so sees the new base and refs.
func (c *chunk[T]) reset(base uint64) {
	c.base = base
	c.refs.Store(chunkSize + 1)
	c.next.Store(nil)
	c.pub.Store(0)
	c.state.Store((c.state.Load()>>32 + 1) << 32)
}

// push publishes v. It reports false, without publishing, when the consumer stopped while the
// producer waited for a free chunk. It does not give up when the run's context ends: chunks
// then free up fast, as workers skip their items, and an item read from the source must get
// its result.
func (f *feed[T]) push(v T, quit <-chan struct{}) bool {
	if f.n == chunkSize && !f.grow(quit) {
		return false
	}
	f.tail.items[f.n] = v
	f.n++
	f.seq++
	f.tail.pub.Store(uint32(f.n))
	if f.idle.Load() > 0 {
		f.wakeOne()
	}
	return true
}

// grow links a fresh chunk after the full tail, waiting for one to be recycled when the bound on
// chunks is reached.
func (f *feed[T]) grow(quit <-chan struct{}) bool {
	var c *chunk[T]
	select {
	case c = <-f.free:
		c.wipe()
	default:
		if f.made < cap(f.free) {
			f.made++
			c = new(chunk[T])
		} else {
			select {
			case c = <-f.free:
				c.wipe()
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
	close(f.closedCh)
}

// stop wakes every sleeping worker for good, to see that the run is over.
func (f *feed[T]) stop() {
	f.stopping.Store(true)
	f.stopOnce.Do(func() { close(f.stopCh) })
}

// wakeOne hands a wake-up token to one sleeping worker, if any worker counts itself idle.
func (f *feed[T]) wakeOne() {
	for {
		n := f.idle.Load()
		if n <= 0 {
			return
		}
		if f.idle.CompareAndSwap(n, n-1) {
			select {
			case f.wakeCh <- struct{}{}:
			default: // enough tokens are waiting already
			}
			return
		}
	}
}

// unidle takes back a worker's own idle count when it did not sleep on a token. If a producer took
// the count first, its token stays in the channel and wakes some worker once for nothing.
func (f *feed[T]) unidle() {
	for {
		n := f.idle.Load()
		if n <= 0 || f.idle.CompareAndSwap(n, n-1) {
			return
		}
	}
}

// claim takes up to limit published items for one worker, sharing what is there with the other
// workers (it takes at most a 1/workers share, rounded up). It reports ok false when nothing is
// published now.
func (f *feed[T]) claim(limit, workers int) (c *chunk[T], lo, hi int, ok bool) {
	for {
		c = f.head.Load()
		st := c.state.Load()
		pub, taken := int(c.pub.Load()), int(uint32(st)) // state first: see reset
		if f.head.Load() != c {
			continue // c may have been recycled since it was read: st may be of its next use
		}
		if taken < pub {
			k := min(limit, (pub-taken+workers-1)/workers)
			if c.state.CompareAndSwap(st, st+uint64(k)) {
				return c, taken, taken + k, true
			}
			continue
		}
		if taken < chunkSize || !f.advance() {
			return nil, 0, 0, false
		}
	}
}

// advance moves the head past a chunk whose every item is claimed, once the producer has linked
// the next one. It reports false when there is nothing to move to yet.
//
// The move is decided under headMu on the head as it is now, never on values a worker read
// earlier: a chunk can be recycled and become the head again between a worker's reads of the
// head, its state and its next link, so a decision taken on those reads could skip the unclaimed
// items of the chunk's new use. Under the lock, the head cannot change and cannot be recycled
// (it holds a reference to itself), so its state and next link are those of its current use. The
// lock is taken once a chunk, not once an item.
func (f *feed[T]) advance() bool {
	f.headMu.Lock()
	defer f.headMu.Unlock()
	c := f.head.Load()
	if uint32(c.state.Load()) < chunkSize {
		return true // another worker moved the head already: look at the new one
	}
	next := c.next.Load()
	if next == nil {
		return false
	}
	f.head.Store(next)
	f.release(c, 1)
	return true
}

// release records that k items (or, with k = 1 from the head's move, the head's reference) of c
// are done with; the last release recycles c.
func (f *feed[T]) release(c *chunk[T], k int) {
	if c.refs.Add(int32(-k)) == 0 {
		f.free <- c // never blocks: at most cap(f.free) chunks exist
	}
}

// spins is how many times an idle worker yields its processor, looking for items in between,
// before it goes to sleep. While the producer is running, yielding lets it publish a few more
// items, so the worker then claims several at once instead of being woken for every one; when
// nothing else is runnable a yield returns at once, so a slow source gets no added latency.
const spins = 4

// wait blocks an idle worker until items may be there, the source has ended, or the run stops.
// It reports false when the worker should exit: the source ended and every item was claimed, or
// the run stopped.
func (f *feed[T]) wait() bool {
	for range f.spins {
		if ok, done := f.ready(); ok || done {
			return ok
		}
		runtime.Gosched()
	}
	f.idle.Add(1)
	if ok, done := f.ready(); ok || done {
		f.unidle()
		return ok
	}
	select {
	case <-f.wakeCh:
		return true
	case <-f.closedCh:
		f.unidle()
		return true
	case <-f.stopCh:
		f.unidle()
		return false
	}
}

// ready reports whether items can be claimed now (ok), or whether the worker is done: the run
// stopped, or the source ended and every item was claimed.
func (f *feed[T]) ready() (ok, done bool) {
	if f.stopping.Load() {
		return false, true
	}
	closed := f.closed.Load() // read before looking for items: they were published before
	if f.available() {
		return true, false
	}
	return false, closed
}

// gather lets items collect before a claim while fewer than limit are published and the
// producer is still publishing: the worker yields its processor and looks again, and stops as
// soon as a look finds no new item since the one before (the producer is slow or blocked: take
// what is there now) or limit items are there. Taking items one by one from a fast producer would
// cost a cross-core hand-over each; waiting on a slow one would add latency. A yield returns at
// once when nothing else is runnable, so a slow source sees a look or two of added latency.
func (f *feed[T]) gather(limit int) {
	last := -1
	for range maxGather {
		c := f.head.Load()
		avail := int(c.pub.Load()) - int(uint32(c.state.Load()))
		if f.closed.Load() || avail >= limit || avail == last {
			return
		}
		last = avail
		runtime.Gosched()
	}
}

// maxGather bounds the looks of gather.
const maxGather = 64

// available reports whether a claim could find items now.
func (f *feed[T]) available() bool {
	c := f.head.Load()
	st := c.state.Load()
	pub, taken := int(c.pub.Load()), int(uint32(st))
	return taken < pub || (taken == chunkSize && c.next.Load() != nil)
}
