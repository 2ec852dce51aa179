package bench

import (
	"context"
	"errors"
	"sync"

	"github.com/stagecoach-go/stagecoach/pipe"
)

// Pipe runs the workload as the classic channel-per-stage pipeline of package pipe: a source
// goroutine, one goroutine per stage (pipe.Map with one worker, the model of the seed blog post),
// joined by channels buffered to pipe.DefaultBuffer, and the checking sink on the calling
// goroutine. With one worker a stage and at least as many stages as cores, every core is busy,
// so more workers a stage would only add contention. W3 runs one such pipeline per stream, all
// at once.
func Pipe(w Workload) error {
	errs := make([]error, w.Streams)
	var wg sync.WaitGroup
	for s := range w.Streams {
		wg.Go(func() { errs[s] = pipeStream(w, s) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func pipeStream(w Workload, s int) error {
	p := pipe.New(context.Background())
	ch := pipe.FromSeq(p, w.Source(s))
	for _, stage := range w.Stages {
		ch = pipe.Map(p, ch, stage)
	}
	k := w.NewSink(s)
	err := pipe.ForEach(p, ch, func(_ context.Context, it Item) error {
		k.Add(it, nil)
		return nil
	})
	return errors.Join(err, k.Err())
}
