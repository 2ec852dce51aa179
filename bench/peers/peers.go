package peers

import (
	"context"
	"errors"
	"runtime"
	"sync"

	"github.com/alitto/pond/v2"
	"github.com/destel/rill"
	"github.com/sourcegraph/conc/stream"
	"golang.org/x/sync/errgroup"

	"github.com/stagecoach-go/stagecoach/bench"
)

// Impls returns Stagecoach's implementations and the peers', in report order.
func Impls() []bench.Impl {
	return append(bench.Impls(),
		bench.Impl{Name: "rill", Run: Rill},
		bench.Impl{Name: "conc", Run: Conc},
		bench.Impl{Name: "pond", Run: Pond},
		bench.Impl{Name: "errgroup", Run: Errgroup},
	)
}

// perStream runs one func a stream, all streams at once, and joins their errors.
func perStream(w bench.Workload, run func(s int) error) error {
	errs := make([]error, w.Streams)
	var wg sync.WaitGroup
	for s := range w.Streams {
		wg.Go(func() { errs[s] = run(s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Rill runs each stream as a rill pipeline, one rill.Map a stage with GOMAXPROCS concurrency, as
// rill's README builds pipelines, and consumes it with rill.ForEach.
func Rill(w bench.Workload) error {
	n := runtime.GOMAXPROCS(0)
	return perStream(w, func(s int) error {
		ch := rill.FromSeq(w.Source(s), nil)
		for _, stage := range w.Stages {
			ch = rill.Map(ch, n, func(it bench.Item) (bench.Item, error) { return stage(context.Background(), it) })
		}
		k := w.NewSink(s)
		err := rill.ForEach(ch, 1, func(it bench.Item) error { k.Add(it, nil); return nil })
		return errors.Join(err, k.Err())
	})
}

// Conc runs each stream on a conc stream with GOMAXPROCS goroutines: a task a item runs every
// stage, and its callback (run in submission order) checks the result.
func Conc(w bench.Workload) error {
	n := runtime.GOMAXPROCS(0)
	return perStream(w, func(s int) error {
		st := stream.New().WithMaxGoroutines(n)
		k := w.NewSink(s)
		for it := range w.Source(s) {
			st.Go(func() stream.Callback {
				out, err := w.Apply(context.Background(), it)
				return func() { k.Add(out, err) }
			})
		}
		st.Wait()
		return k.Err()
	})
}

// Pond runs every stream on one pond result pool of GOMAXPROCS workers, a task group a stream (the
// pool's way to give each caller its own results), each task running every stage.
func Pond(w bench.Workload) error {
	p := pond.NewResultPool[bench.Item](runtime.GOMAXPROCS(0))
	defer p.StopAndWait()
	return perStream(w, func(s int) error {
		g := p.NewGroup()
		for it := range w.Source(s) {
			g.SubmitErr(func() (bench.Item, error) { return w.Apply(context.Background(), it) })
		}
		results, err := g.Wait()
		k := w.NewSink(s)
		for _, it := range results {
			k.Add(it, nil)
		}
		return errors.Join(err, k.Err())
	})
}

// Errgroup runs every item of every stream as an errgroup task, at most GOMAXPROCS at once
// (SetLimit), each running every stage; results go to their stream's Sink under a lock.
func Errgroup(w bench.Workload) error {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	sinks := make([]*bench.Sink, w.Streams)
	locks := make([]sync.Mutex, w.Streams)
	for s := range sinks {
		sinks[s] = w.NewSink(s)
	}
	for id := range w.Items {
		for s := range w.Streams {
			it := w.Input(s, id)
			g.Go(func() error {
				out, err := w.Apply(context.Background(), it)
				locks[s].Lock()
				sinks[s].Add(out, err)
				locks[s].Unlock()
				return nil
			})
		}
	}
	errs := []error{g.Wait()}
	for _, k := range sinks {
		errs = append(errs, k.Err())
	}
	return errors.Join(errs...)
}
