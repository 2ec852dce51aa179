package pool_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/pool"
)

// entry is one of the streaming entry points, run over a source of ints with an int work func.
type entry struct {
	name string
	run  func(ctx context.Context, src iter.Seq[int], fn func(context.Context, int) (int, error), opts ...pool.Option) iter.Seq2[int, error]
}

var entries = []entry{
	{"Run", pool.Run[int]},
	{"Map", pool.Map[int, int]},
	{"RunSeq2", func(ctx context.Context, src iter.Seq[int], fn func(context.Context, int) (int, error), opts ...pool.Option) iter.Seq2[int, error] {
		return pool.RunSeq2(ctx, func(yield func(int, error) bool) {
			for v := range src {
				if !yield(v, nil) {
					return
				}
			}
		}, fn, opts...)
	}},
	{"RunChan", func(ctx context.Context, src iter.Seq[int], fn func(context.Context, int) (int, error), opts ...pool.Option) iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			in := make(chan int)
			go func() { // ends when src does: the run reads in to its end
				defer close(in)
				for v := range src {
					in <- v
				}
			}()
			for r := range pool.RunChan(ctx, in, fn, opts...) {
				if !yield(r.Value, r.Err) {
					return
				}
			}
		}
	}},
}

// A finished result is handed over within a millisecond of its item finishing, even while an
// item claimed in the same batch blocks until the test lets it go 10 ms later (issue 20): in
// completion order every finished result, in source order every one before the blocked item.
// The run is in a synctest bubble, so the times are the bubble's clock and exact: nothing runs
// late because the machine is loaded. Item 0 waits until the source has yielded every item, so
// the one worker claims items 1 to 9 at once, after item 0, in one batch with the blocker.
func TestRunHandsOverWhileABatchMateBlocks(t *testing.T) {
	const n, blocker, hold = 10, 5, 10 * time.Millisecond
	for _, e := range entries {
		for _, ordered := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/ordered=%v", e.name, ordered), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					start := time.Now()
					allRead, release := make(chan struct{}), make(chan struct{})
					go func() { // the test's end of the blocker: it returns hold after the start
						time.Sleep(hold)
						close(release)
					}()
					var mu sync.Mutex
					finished := map[int]time.Duration{}
					work := func(_ context.Context, v int) (int, error) {
						switch v {
						case 0:
							<-allRead
						case blocker:
							<-release
						}
						mu.Lock()
						defer mu.Unlock()
						finished[v] = time.Since(start)
						return 10 * v, nil
					}
					src := func(yield func(int) bool) {
						for v := range n {
							if !yield(v) {
								return
							}
						}
						close(allRead)
					}
					opts := []pool.Option{pool.Workers(1)}
					if ordered {
						opts = append(opts, pool.Ordered())
					}
					handed := map[int]time.Duration{}
					for v, err := range e.run(t.Context(), src, work, opts...) {
						require.NoError(t, err)
						require.NotContains(t, handed, v/10, "a result handed over twice")
						handed[v/10] = time.Since(start)
					}
					require.Len(t, handed, n, "results")
					for v := range blocker {
						require.Less(t, finished[v], hold, "item %d finished while the blocker blocked", v)
					}
					for v, at := range finished {
						if v == blocker || at >= hold || (ordered && v > blocker) {
							continue
						}
						assert.LessOrEqual(t, handed[v]-at, time.Millisecond,
							"item %d finished at %v, handed over at %v (the blocker returned at %v)", v, at, handed[v], hold)
					}
				})
			})
		}
	}
}

// delivery counts the results the consumer has delivered, for work funcs that wait on it.
type delivery struct {
	mu       sync.Mutex
	cond     *sync.Cond
	count    int    // results delivered
	prefix   int    // ordered: items 0 to prefix-1 delivered
	gotten   []bool // by item
	finished atomic.Int64
}

func newDelivery(n int) *delivery {
	d := &delivery{gotten: make([]bool, n)}
	d.cond = sync.NewCond(&d.mu)
	return d
}

func (d *delivery) deliver(v int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.count++
	d.gotten[v] = true
	for d.prefix < len(d.gotten) && d.gotten[d.prefix] {
		d.prefix++
	}
	d.cond.Broadcast()
}

// await waits until enough reports true, or until the failure bound passes (not a
// synchronisation: a run that holds a result back never gets there).
func (d *delivery) await(enough func() bool) bool {
	giveUp := time.AfterFunc(10*time.Second, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.cond.Broadcast()
	})
	defer giveUp.Stop()
	deadline := time.Now().Add(10 * time.Second)
	d.mu.Lock()
	defer d.mu.Unlock()
	for !enough() {
		if time.Now().After(deadline) {
			return false
		}
		d.cond.Wait()
	}
	return true
}

// Work that waits on the consumer does not deadlock the run: random items wait, each until the
// consumer has delivered every result finished before it started (in source order: every item
// before it), which only an early hand-over of their batch-mates' results makes possible, whatever
// the size, workers, batch size, window and how often the consumer looks.
func TestStressRunWaitsOnTheConsumer(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 20))
	for run := range *stressRuns / 3 {
		c := drawStress(rng)
		c.failFast = false // a fail-fast error waits for the items running, so for a waiter
		c.n = min(c.n, 2000)
		waits := map[int]bool{}
		for range 1 + rng.IntN(4) {
			waits[rng.IntN(c.n)] = true
		}
		d := newDelivery(c.n)
		work := func(_ context.Context, v int) (int, error) {
			if waits[v] {
				need := int(d.finished.Load())
				ok := d.await(func() bool {
					if c.ordered {
						return d.prefix >= v
					}
					return d.count >= need
				})
				if !ok {
					return 0, fmt.Errorf("item %d waited in vain for the results finished before it", v)
				}
			}
			d.finished.Add(1)
			return 2 * v, nil
		}
		got := 0
		for v, err := range pool.Run(c.parent(t), slices.Values(ints(c.n)), work, c.options()...) {
			require.NoError(t, err, "seed %d run %d %+v", seed, run, c)
			require.False(t, d.gotten[v/2], "seed %d run %d %+v: item %d twice", seed, run, c, v/2)
			d.deliver(v / 2)
			got++
		}
		require.Equal(t, c.n, got, "seed %d run %d %+v: results", seed, run, c)
	}
}
