package bench

import (
	"context"
	"errors"

	"github.com/stagecoach-go/stagecoach/pool"
)

// Pool runs the workload with pool.Run over the work func of [Work] (an fsm.Machine of the
// stages), GOMAXPROCS workers, unordered results. Several streams (W3) go through one run as one
// interleaved source, and each result is checked by its own stream's Sink: pool has no notion of
// streams (that is what package group adds), so this is what a pool user would write.
func Pool(w Workload) error {
	sinks := make([]*Sink, w.Streams)
	for s := range sinks {
		sinks[s] = w.NewSink(s)
	}
	src := func(yield func(Item) bool) {
		for id := range w.Items {
			for s := range w.Streams {
				if !yield(w.Input(s, id)) {
					return
				}
			}
		}
	}
	for it, err := range pool.Run(context.Background(), src, Work(w)) {
		if it.Stream < 0 || it.Stream >= w.Streams {
			return errors.New("bench: pool returned an item of no stream")
		}
		sinks[it.Stream].Add(it, err)
	}
	errs := make([]error, len(sinks))
	for s, k := range sinks {
		errs[s] = k.Err()
	}
	return errors.Join(errs...)
}
