package bench

import (
	"context"
	"errors"
	"iter"
	"sync"

	"github.com/stagecoach-go/stagecoach/group"
)

// Group runs the workload on one group.Router running [Work] (an fsm.Machine of the stages) on
// GOMAXPROCS workers: every stream opens its own group, one goroutine submits the stream's items
// while another reads the group's results into the stream's Sink, so each stream checks that it
// got exactly its own results back.
func Group(w Workload) error { return groupRun(w, submitEach) }

// GroupBatch is [Group] with each stream's submitter handing its items to its group in runs of
// up to batchRun with SubmitAll, as a service that receives its items in batches (a bulk
// request, a page read from a queue) does: a run takes the group's lock once.
func GroupBatch(w Workload) error { return groupRun(w, submitRuns) }

// batchRun is the longest run GroupBatch hands to SubmitAll.
const batchRun = 64

// submitter hands a stream's items to its group.
type submitter func(ctx context.Context, g *group.Group[int, Item], items iter.Seq[Item]) error

func submitEach(ctx context.Context, g *group.Group[int, Item], items iter.Seq[Item]) error {
	for it := range items {
		if err := g.Submit(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

func submitRuns(ctx context.Context, g *group.Group[int, Item], items iter.Seq[Item]) error {
	run := make([]Item, 0, batchRun)
	for it := range items {
		if run = append(run, it); len(run) == batchRun {
			if _, err := g.SubmitAll(ctx, run); err != nil {
				return err
			}
			run = run[:0]
		}
	}
	_, err := g.SubmitAll(ctx, run)
	return err
}

func groupRun(w Workload, submit submitter) error {
	r := group.New[int](Work(w))
	defer r.Shutdown(context.Background())
	errs := make([]error, w.Streams)
	var wg sync.WaitGroup
	for s := range w.Streams {
		wg.Go(func() { errs[s] = groupStream(r, w, s, submit) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func groupStream(r *group.Router[int, Item], w Workload, s int, submit submitter) error {
	ctx := context.Background()
	g, err := r.Open(ctx, s)
	if err != nil {
		return err
	}
	submitted := make(chan error, 1)
	go func() {
		defer g.Close()
		submitted <- submit(ctx, g, w.Source(s))
	}()
	k := w.NewSink(s)
	for it, err := range g.Results() {
		k.Add(it, err)
	}
	return errors.Join(<-submitted, k.Err())
}
