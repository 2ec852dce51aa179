package otel

import (
	"context"
	"iter"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/internal/poolcount"
	"github.com/stagecoach-go/stagecoach/pool"
)

// Pool runs pool.Run and counts its items, which package pool does not: submitted (read from the
// source), completed, failed, queued (read, not started) and in flight (started, not returned),
// reported under the stagecoach.pool attribute by the stagecoach.pool.items.* instruments. Make it
// with [NewPool]; it is safe for concurrent use, and its runs may overlap.
type Pool[T any] struct {
	stop  func()
	count *poolcount.Pool[T]
}

// NewPool returns a Pool whose counters t reports under name, until [Pool.Close].
//
// NewPool returns an error wrapping [ErrAttached] if another pool named name is reported by t.
// It panics if t is nil.
func NewPool[T any](t *Telemetry, name string) (*Pool[T], error) {
	if t == nil {
		panic("otel: NewPool: nil *Telemetry")
	}
	p := &Pool[T]{count: poolcount.New[T]()}
	stop, err := t.watch(&observed{kind: kindPool, stats: p.Stats}, name, p, KeyPool.String(name))
	if err != nil {
		return nil, err
	}
	p.stop = stop
	return p, nil
}

// Close stops reporting p's counters. Runs may go on; they are no longer reported.
func (p *Pool[T]) Close() { p.stop() }

// Run is pool.Run(ctx, src, fn, opts...) with p counting its items. Counting costs a few atomic
// additions an item and no allocation (the package documentation has the figures). A nil src or
// fn panics as pool.Run does.
func (p *Pool[T]) Run(ctx context.Context, src iter.Seq[T], fn func(context.Context, T) (T, error), opts ...pool.Option) iter.Seq2[T, error] {
	return p.count.Run(ctx, src, fn, opts...)
}

// Stats returns p's counters, over every run it has had. Queued and InFlight are those of the
// runs going on.
func (p *Pool[T]) Stats() group.Stats { return p.count.Stats() }
