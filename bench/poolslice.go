package bench

import (
	"context"
	"errors"

	"github.com/stagecoach-go/stagecoach/pool"
)

// PoolSlice runs the workload with pool.Slice, for input already in memory: the items of every
// stream are put in one slice (inside the timed run, so the comparison with Direct is not
// flattered), run over the work func of [Work] on GOMAXPROCS workers, and checked in order.
func PoolSlice(w Workload) error {
	in := make([]Item, 0, w.Items*w.Streams)
	for id := range w.Items {
		for s := range w.Streams {
			in = append(in, w.Input(s, id))
		}
	}
	out, errs := pool.Slice(context.Background(), in, Work(w))
	sinks := make([]*Sink, w.Streams)
	for s := range sinks {
		sinks[s] = w.NewSink(s)
	}
	for i, it := range out {
		var err error
		if errs != nil {
			err = errs[i]
		}
		sinks[in[i].Stream].Add(it, err)
	}
	all := make([]error, len(sinks))
	for s, k := range sinks {
		all[s] = k.Err()
	}
	return errors.Join(all...)
}
