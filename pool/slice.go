package pool

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/stagecoach-go/stagecoach/internal/engine"
	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// Slice applies fn to every item of in on concurrent workers and returns the results in input
// order: out[i] is fn's result for in[i]. It is the entry point for input already in memory: a
// worker claims a run of indexes with one atomic add and writes its results straight into out,
// so nothing is handed over item by item and nothing is allocated but out (and errs).
//
// errs is nil when every item succeeded. Otherwise it has one entry an item: errs[i] is in[i]'s
// error (nil for an item that succeeded), and out[i] is the zero Out. An item's error is fn's
// error, a *[PanicError], [ErrGoexit], or, for an item not started because ctx ended (or, with
// [FailFast], because an item failed), ctx's cause (or that failure). Slice blocks until every
// worker has returned. [Workers], [FailFast] and [Repanic] apply ([Repanic] re-raises on the
// caller's goroutine once every worker has returned); [Ordered], [Window] and [MaxBatch] have no
// effect: results are always in input order, each in its own place.
//
// Slice panics if ctx or fn is nil.
func Slice[In, Out any](ctx context.Context, in []In, fn func(context.Context, In) (Out, error), opts ...Option) (out []Out, errs []error) {
	mustRun("Slice", ctx, "input", true, fn != nil)
	o := newOptions(opts)
	s := &slicer[In, Out]{in: in, out: make([]Out, len(in)), fn: fn, failFast: o.failFast, clock: newClock()}
	s.init(ctx)
	defer s.end(ErrFinished) // through end, which sets ended first: see ownCtx
	for range min(o.workers, len(in)) {
		s.wg.Go(func() { s.work(&sliceWorker{limit: 1}) }) // owned by Slice, which waits for it
	}
	s.wg.Wait()
	errs = s.errors()
	if o.repanic {
		for _, err := range errs {
			if pe, ok := err.(*PanicError); ok {
				panic(pe)
			}
		}
	}
	return s.out, errs
}

// slicer is the state of one call of Slice. Workers share only next (the first index not yet
// claimed: each claim is one atomic add, so every index is claimed exactly once) and, rarely,
// the error list under mu; each writes only the out entries of its own claims.
type slicer[In, Out any] struct {
	in       []In
	out      []Out
	fn       func(context.Context, In) (Out, error)
	runCtx   // ctx is passed to fn; it ends when the caller's ends or, with FailFast, at a failure
	failFast bool
	clock    clock
	next     atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	failed   []errAt
}

// sliceWorker is one worker's claim size, learned as in Run: about batchTime of work.
type sliceWorker struct {
	limit int
	st    engine.ServiceTime
}

// work claims runs of indexes and processes them until every index is claimed. A work func that
// calls runtime.Goexit fails its item; the goroutine cannot be saved, so a replacement takes
// over the rest of its claim and goes on.
func (s *slicer[In, Out]) work(w *sliceWorker) {
	n := int64(len(s.in))
	began := s.clock.now() // one clock read a claim: a claim's cost counts as its run's work
	for {
		k := int64(w.limit)
		hi := s.next.Add(k)
		lo := hi - k
		if lo >= n {
			return
		}
		hi = min(hi, n)
		s.run(w, int(lo), int(hi))
		now := s.clock.now()
		took := now - began
		began = now
		w.st.Learn(took, int(hi-lo))
		w.limit = w.st.Fit(batchTime, chunkSize)
	}
}

// run processes items lo to hi, carrying on after an item that panicked. One deferred recover
// covers the run, so it costs one defer, not one an item.
func (s *slicer[In, Out]) run(w *sliceWorker, lo, hi int) {
	for i := lo; i < hi; {
		i = s.runFrom(w, i, hi)
	}
}

func (s *slicer[In, Out]) runFrom(w *sliceWorker, i, hi int) (next int) {
	returned := engine.Guard(func() {
		for ; i < hi; i++ {
			if s.done() {
				s.fail(i, s.cause())
				continue
			}
			v, err := s.fn(s.ctx, s.in[i])
			if err != nil {
				s.fail(i, err)
				continue
			}
			s.out[i] = v
		}
	}, func(err error) {
		s.fail(i, err)
		next = i + 1
		if err == panics.ErrGoexit {
			s.replace(w, i+1, hi)
		}
	})
	if returned {
		return hi
	}
	return next
}

// replace starts a worker that takes over from one whose goroutine is ending in runtime.Goexit:
// it runs items from to hi of the claim it was processing, then claims on.
func (s *slicer[In, Out]) replace(w *sliceWorker, from, hi int) {
	s.wg.Go(func() { // owned by Slice, as the worker it replaces
		s.run(w, from, hi)
		s.work(w)
	})
}

// fail records item i's error; in a fail-fast call the first one cancels the rest.
func (s *slicer[In, Out]) fail(i int, err error) {
	s.mu.Lock()
	s.failed = append(s.failed, errAt{i: i, err: err})
	s.mu.Unlock()
	if s.failFast {
		s.end(err)
	}
}

// errors returns the errors by index, or nil when there is none.
func (s *slicer[In, Out]) errors() []error {
	if len(s.failed) == 0 {
		return nil
	}
	errs := make([]error, len(s.in))
	for _, f := range s.failed {
		errs[f.i] = f.err
	}
	return errs
}
