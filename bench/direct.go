package bench

import (
	"context"
	"errors"
	"runtime"
	"sync"
)

// Direct is the limit every design is measured against: the items are split into GOMAXPROCS
// contiguous ranges, and one goroutine a range calls the stage funcs in order on each item. There
// is no hand-over of any kind, so it is what the work costs with nothing around it.
func Direct(w Workload) error {
	ctx := context.Background()
	workers := runtime.GOMAXPROCS(0)
	sinks := make([][]*Sink, workers)
	var wg sync.WaitGroup
	total := w.Total()
	for g := range workers {
		lo, hi := total*g/workers, total*(g+1)/workers
		wg.Go(func() {
			own := make([]*Sink, w.Streams)
			for s := range own {
				own[s] = w.NewSink(s)
			}
			for flat := lo; flat < hi; flat++ {
				s, id := flat/w.Items, flat%w.Items
				it, err := w.Apply(ctx, w.Input(s, id))
				own[s].Add(it, err)
			}
			sinks[g] = own
		})
	}
	wg.Wait()
	var errs []error
	for s := range w.Streams {
		merged := w.NewSink(s)
		for g := range workers {
			merged.Merge(sinks[g][s])
		}
		errs = append(errs, merged.Err())
	}
	return errors.Join(errs...)
}
