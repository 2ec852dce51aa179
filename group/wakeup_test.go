package group_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

// No queued item waits while a worker sleeps: with n workers and n items of one group submitted at
// once by n goroutines, every item starts, even when each one blocks until all n have started, so
// that no worker comes back for more. Concurrent submitters keep the group's lock busy, which sends
// workers down the path where they wait for it with the group left in the queue (Router.next): a
// worker there used to claim the last pending item and leave the group queued without waking
// another worker, so an item submitted next sat in the queue while idle workers slept (CI once hung
// on it in the fairness test). Bounded: stressRuns routers, from 2 to 8 workers.
func TestStressIdleWorkersTakeEveryQueuedItem(t *testing.T) {
	for run := range 10 * *stressRuns {
		n := 2 + run%7
		t.Run(fmt.Sprintf("run=%d/workers=%d", run, n), func(t *testing.T) {
			var started atomic.Int64
			all := make(chan struct{})
			release := make(chan struct{})
			work := func(_ context.Context, v int) (int, error) {
				if started.Add(1) == int64(n) {
					close(all)
				}
				<-release
				return v, nil
			}
			r := group.New[int](work, group.Workers(n))
			g, err := r.Open(t.Context(), 0, group.Window(n))
			require.NoError(t, err)
			var submitters sync.WaitGroup
			for i := range n {
				submitters.Go(func() { require.NoError(t, g.Submit(t.Context(), i)) })
			}
			submitters.Wait()
			g.Close()
			select {
			case <-all:
			case <-time.After(10 * time.Second): // a failure detector, not a synchronisation
				close(release)
				t.Fatalf("%d of %d items started with %d workers", started.Load(), n, n)
			}
			close(release)
			got := 0
			for _, err := range g.Results() {
				require.NoError(t, err)
				got++
			}
			require.Equal(t, n, got)
			require.NoError(t, r.Shutdown(context.Background()))
		})
	}
}
