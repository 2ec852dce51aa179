package bench

import (
	"context"
	"errors"
	"sync"

	"github.com/stagecoach-go/stagecoach/group"
)

// Group runs the workload on one group.Router running [Work] (an fsm.Machine of the stages) on
// GOMAXPROCS workers: every stream opens its own group, one goroutine submits the stream's items
// while another reads the group's results into the stream's Sink, so each stream checks that it
// got exactly its own results back.
func Group(w Workload) error {
	r := group.New[int](Work(w))
	defer r.Shutdown(context.Background())
	errs := make([]error, w.Streams)
	var wg sync.WaitGroup
	for s := range w.Streams {
		wg.Go(func() { errs[s] = groupStream(r, w, s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func groupStream(r *group.Router[int, Item], w Workload, s int) error {
	ctx := context.Background()
	g, err := r.Open(ctx, s)
	if err != nil {
		return err
	}
	submitted := make(chan error, 1)
	go func() {
		defer g.Close()
		for it := range w.Source(s) {
			if err := g.Submit(ctx, it); err != nil {
				submitted <- err
				return
			}
		}
		submitted <- nil
	}()
	k := w.NewSink(s)
	for it, err := range g.Results() {
		k.Add(it, err)
	}
	return errors.Join(<-submitted, k.Err())
}

// GroupBatch is [Group] with each stream's submitter handing its items to its group in runs of
// up to batchRun with SubmitAll, as a service that receives its items in batches (a bulk
// request, a page read from a queue) does: a run takes the group's lock once.
func GroupBatch(w Workload) error {
	r := group.New[int](Work(w))
	defer r.Shutdown(context.Background())
	errs := make([]error, w.Streams)
	var wg sync.WaitGroup
	for s := range w.Streams {
		wg.Go(func() { errs[s] = groupBatchStream(r, w, s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// batchRun is the longest run GroupBatch hands to SubmitAll.
const batchRun = 64

func groupBatchStream(r *group.Router[int, Item], w Workload, s int) error {
	ctx := context.Background()
	g, err := r.Open(ctx, s)
	if err != nil {
		return err
	}
	submitted := make(chan error, 1)
	go func() {
		defer g.Close()
		run := make([]Item, 0, batchRun)
		for it := range w.Source(s) {
			if run = append(run, it); len(run) == batchRun {
				if _, err := g.SubmitAll(ctx, run); err != nil {
					submitted <- err
					return
				}
				run = run[:0]
			}
		}
		_, err := g.SubmitAll(ctx, run)
		submitted <- err
	}()
	k := w.NewSink(s)
	for it, err := range g.Results() {
		k.Add(it, err)
	}
	return errors.Join(<-submitted, k.Err())
}
