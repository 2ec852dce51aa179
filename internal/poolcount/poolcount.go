package poolcount

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/pool"
)

// Pool runs pool.Run and counts its items (see the package documentation). Make it with [New].
type Pool[T any] struct {
	mu   sync.Mutex
	live map[*run]struct{}
	done group.Stats // the runs that have ended: Submitted, Completed and Failed only
}

// run holds one run's counters. Who writes what: read by the goroutine reading the source,
// started and finished by the workers, completed and failed by the consumer's goroutine; each
// writer's counters are on their own cache line. Anyone may read them (snapshot).
type run struct {
	read      atomic.Int64
	_         [56]byte
	started   atomic.Int64
	_         [56]byte
	finished  atomic.Int64
	_         [56]byte
	completed atomic.Int64
	failed    atomic.Int64
}

// New returns a Pool with no run.
func New[T any]() *Pool[T] { return &Pool[T]{live: map[*run]struct{}{}} }

// Run is pool.Run(ctx, src, fn, opts...) with p counting its items. A nil src or fn is passed to
// pool.Run as it is, whose panic names it.
func (p *Pool[T]) Run(ctx context.Context, src iter.Seq[T], fn func(context.Context, T) (T, error), opts ...pool.Option) iter.Seq2[T, error] {
	if src == nil || fn == nil {
		return pool.Run(ctx, src, fn, opts...)
	}
	return func(yield func(T, error) bool) {
		r := p.begin()
		defer p.end(r)
		for v, err := range pool.Run(ctx, counted(r, src), timed(r, fn), opts...) {
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

// counted wraps src to count the items read from it into r.
func counted[T any](r *run, src iter.Seq[T]) iter.Seq[T] {
	return func(yield func(T) bool) {
		for v := range src {
			r.read.Add(1)
			if !yield(v) {
				return
			}
		}
	}
}

// timed wraps fn to count the items it starts and returns into r (a panic or a Goexit returns
// too: the deferred addition runs).
func timed[T any](r *run, fn func(context.Context, T) (T, error)) func(context.Context, T) (T, error) {
	return func(ctx context.Context, v T) (T, error) {
		r.started.Add(1)
		defer r.finished.Add(1)
		return fn(ctx, v)
	}
}

// Stats returns p's counters over every run it has had. Queued and InFlight are those of the
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

func (p *Pool[T]) begin() *run {
	r := &run{}
	p.mu.Lock()
	p.live[r] = struct{}{}
	p.mu.Unlock()
	return r
}

// end folds an ended run into p's totals: none of its items is queued or in flight any more.
func (p *Pool[T]) end(r *run) {
	s := r.snapshot()
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.live, r)
	p.done.Submitted += s.Submitted
	p.done.Completed += s.Completed
	p.done.Failed += s.Failed
}

// snapshot reads a run's counters, each once, the consumer's first and the reader's last, so that
// a count is never read older than the one it is compared with (completed <= read, finished <=
// started). A run whose context ended ends with one more failed result than items (the cause,
// with no item), so Failed is capped at what was read and not completed.
func (r *run) snapshot() group.Stats {
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
