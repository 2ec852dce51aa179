package peers

import (
	"context"
	"errors"

	"github.com/alitto/pond/v2"
	"github.com/destel/rill"
	"github.com/sourcegraph/conc/stream"
	"golang.org/x/sync/errgroup"

	"github.com/stagecoach-go/stagecoach/bench"
)

// ConcImpls returns Stagecoach's implementations at a given concurrency n and the peers', in
// report order. Every peer is told n the way it offers: rill per stage (so up to n items wait in
// each stage, as with pipe), conc, pond and errgroup as their limit of tasks at once, a task
// running every stage of one item.
func ConcImpls() []bench.ConcImpl {
	return append(bench.ConcImpls(),
		bench.ConcImpl{Name: "rill", Run: RillN},
		bench.ConcImpl{Name: "conc", Run: ConcN},
		bench.ConcImpl{Name: "pond", Run: PondN},
		bench.ConcImpl{Name: "errgroup", Run: ErrgroupN},
	)
}

// RillN is Rill on stream 0 with concurrency n for every rill.Map.
func RillN(w bench.Workload, n int) error {
	ch := rill.FromSeq(w.Source(0), nil)
	for _, stage := range w.Stages {
		ch = rill.Map(ch, n, func(it bench.Item) (bench.Item, error) { return stage(context.Background(), it) })
	}
	k := w.NewSink(0)
	err := rill.ForEach(ch, 1, func(it bench.Item) error { k.Add(it, nil); return nil })
	return errors.Join(err, k.Err())
}

// ConcN is Conc on stream 0 with at most n goroutines.
func ConcN(w bench.Workload, n int) error {
	st := stream.New().WithMaxGoroutines(n)
	k := w.NewSink(0)
	for it := range w.Source(0) {
		st.Go(func() stream.Callback {
			out, err := w.Apply(context.Background(), it)
			return func() { k.Add(out, err) }
		})
	}
	st.Wait()
	return k.Err()
}

// PondN is Pond on stream 0 with a pool of n workers.
func PondN(w bench.Workload, n int) error {
	p := pond.NewResultPool[bench.Item](n)
	defer p.StopAndWait()
	g := p.NewGroup()
	for it := range w.Source(0) {
		g.SubmitErr(func() (bench.Item, error) { return w.Apply(context.Background(), it) })
	}
	results, err := g.Wait()
	k := w.NewSink(0)
	for _, it := range results {
		k.Add(it, nil)
	}
	return errors.Join(err, k.Err())
}

// ErrgroupN is Errgroup on stream 0 with SetLimit(n); each task records its result in its own
// slot, checked once every task has ended.
func ErrgroupN(w bench.Workload, n int) error {
	var g errgroup.Group
	g.SetLimit(n)
	outs := make([]bench.Item, w.Items)
	errs := make([]error, w.Items)
	for it := range w.Source(0) {
		g.Go(func() error {
			outs[it.ID], errs[it.ID] = w.Apply(context.Background(), it)
			return nil
		})
	}
	werr := g.Wait()
	k := w.NewSink(0)
	for i := range outs {
		k.Add(outs[i], errs[i])
	}
	return errors.Join(werr, k.Err())
}
