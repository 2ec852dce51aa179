package prometheus

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/pool"
)

// Pool runs pool.Run and counts its items, which package pool does not: submitted (read from the
// source), completed, failed, queued (read, not started) and in flight (started, not returned),
// reported under the pool label by the stagecoach_pool_items_* metrics. Make it with [NewPool]; it
// is safe for concurrent use, and its runs may overlap.
type Pool[T any] struct {
	stop func()

	mu   sync.Mutex
	live map[*poolRun]struct{}
	done group.Stats // the runs that have ended
}

// poolRun holds one run's counters, each written by one side of the run and on its own cache
// line: read by the source's reader, started and finished by the workers, completed and failed
// by the consumer.
type poolRun struct {
	read      atomic.Int64
	_         [56]byte
	started   atomic.Int64
	_         [56]byte
	finished  atomic.Int64
	_         [56]byte
	completed atomic.Int64
	failed    atomic.Int64
}

// NewPool returns a Pool whose counters c reports under name, until [Pool.Close].
//
// NewPool returns an error wrapping [ErrAttached] if another pool named name is reported by c.
// It panics if c is nil.
func NewPool[T any](c *Collector, name string) (*Pool[T], error) {
	if c == nil {
		panic("prometheus: NewPool: nil *Collector")
	}
	p := &Pool[T]{live: map[*poolRun]struct{}{}}
	stop, err := c.watch(&observed{kind: kindPool, name: name, stats: p.Stats}, p)
	if err != nil {
		return nil, err
	}
	p.stop = stop
	return p, nil
}

// Close stops reporting p's counters. Runs may go on; they are no longer reported.
func (p *Pool[T]) Close() { p.stop() }

// Run is pool.Run(ctx, src, fn, opts...) with p counting its items. Counting costs a few atomic
// additions an item and no allocation (the package documentation has the figures).
func (p *Pool[T]) Run(ctx context.Context, src iter.Seq[T], fn func(context.Context, T) (T, error), opts ...pool.Option) iter.Seq2[T, error] {
	if src == nil || fn == nil {
		return pool.Run(ctx, src, fn, opts...) // its panic names the nil
	}
	return func(yield func(T, error) bool) {
		r := p.begin()
		defer p.end(r)
		counted := func(y func(T) bool) {
			for v := range src {
				r.read.Add(1)
				if !y(v) {
					return
				}
			}
		}
		work := func(ctx context.Context, v T) (T, error) {
			r.started.Add(1)
			defer r.finished.Add(1)
			return fn(ctx, v)
		}
		for v, err := range pool.Run(ctx, counted, work, opts...) {
			if err != nil {
				r.failed.Add(1)
			} else {
				r.completed.Add(1)
			}
			if !yield(v, err) {
				return
			}
		}
	}
}

// Stats returns p's counters, over every run it has had. Queued and InFlight are those of the
// runs going on.
func (p *Pool[T]) Stats() group.Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.done
	for r := range p.live {
		rs := r.snapshot()
		s.Submitted += rs.Submitted
		s.Completed += rs.Completed
		s.Failed += rs.Failed
		s.Queued += rs.Queued
		s.InFlight += rs.InFlight
	}
	return s
}

func (p *Pool[T]) begin() *poolRun {
	r := &poolRun{}
	p.mu.Lock()
	p.live[r] = struct{}{}
	p.mu.Unlock()
	return r
}

// end folds an ended run into p's totals: none of its items is queued or in flight any more.
// Items whose results the consumer did not take (it stopped early) are submitted and neither
// completed nor failed.
func (p *Pool[T]) end(r *poolRun) {
	s := r.snapshot()
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.live, r)
	p.done.Submitted += s.Submitted
	p.done.Completed += s.Completed
	p.done.Failed += s.Failed
}

// snapshot reads a live run's counters. A run whose context ended ends with one more failed
// result than items (the cause, with no item), so Failed is capped at what was read.
func (r *poolRun) snapshot() group.Stats {
	completed, failed := r.completed.Load(), r.failed.Load()
	finished := r.finished.Load()
	started := r.started.Load()
	read := r.read.Load()
	return group.Stats{
		Submitted: read,
		Completed: completed,
		Failed:    min(failed, max(0, read-completed)),
		Queued:    max(0, read-started),
		InFlight:  max(0, started-finished),
	}
}
