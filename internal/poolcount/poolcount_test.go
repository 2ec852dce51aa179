package poolcount_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/internal/poolcount"
	"github.com/stagecoach-go/stagecoach/pool"
)

var errBad = errors.New("bad item")

// gate is a work func that reports each start and holds every item until released.
type gate struct {
	started chan int
	release chan struct{}
}

func newGate() *gate { return &gate{started: make(chan int, 100), release: make(chan struct{})} }

func (g *gate) work(_ context.Context, v int) (int, error) {
	g.started <- v
	<-g.release
	if v < 0 {
		return v, errBad
	}
	return v, nil
}

func TestCountsARunGoingOn(t *testing.T) {
	p := poolcount.New[int]()
	g := newGate()
	results := make(chan error, 10)
	go func() {
		defer close(results)
		for _, err := range p.Run(context.Background(), slices.Values([]int{1, 2, 3, -4, 5}), g.work, pool.Workers(2)) {
			results <- err
		}
	}()
	<-g.started
	<-g.started
	s := p.Stats()
	assert.Equal(t, int64(2), s.InFlight, "two workers hold an item")
	assert.Equal(t, s.Submitted-2, s.Queued, "the rest read is queued")
	assert.Zero(t, s.Completed+s.Failed, "no result yet")

	close(g.release)
	failed := 0
	for err := range results {
		if err != nil {
			failed++
		}
	}
	assert.Equal(t, 1, failed)
	assert.Equal(t, group.Stats{Submitted: 5, Completed: 4, Failed: 1}, p.Stats())
}

func TestCountsOverlappingRuns(t *testing.T) {
	p := poolcount.New[int]()
	g := newGate()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range p.Run(context.Background(), slices.Values([]int{1, 2}), g.work, pool.Workers(1)) {
			}
		})
	}
	<-g.started
	<-g.started
	assert.Equal(t, int64(2), p.Stats().InFlight, "one item in each run's worker")
	close(g.release)
	wg.Wait()
	assert.Equal(t, group.Stats{Submitted: 4, Completed: 4}, p.Stats(), "both runs folded into the totals")
}

func TestCountsAnEarlyStop(t *testing.T) {
	p := poolcount.New[int]()
	id := func(_ context.Context, v int) (int, error) { return v, nil }
	for range p.Run(context.Background(), slices.Values([]int{1, 2, 3}), id, pool.Ordered()) {
		break
	}
	s := p.Stats()
	assert.Equal(t, int64(1), s.Completed, "one result taken")
	assert.Zero(t, s.Failed, "results not taken are not failures")
	assert.Zero(t, s.Queued+s.InFlight, "the run has ended")
}

func TestCountsACancelledRun(t *testing.T) {
	p := poolcount.New[int]()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs := 0
	id := func(_ context.Context, v int) (int, error) { return v, nil }
	for _, err := range p.Run(ctx, slices.Values([]int{1, 2, 3}), id) {
		if errors.Is(err, context.Canceled) {
			errs++
		}
	}
	require.Positive(t, errs)
	s := p.Stats()
	assert.Equal(t, s.Submitted, s.Failed, "every item read failed; the cause alone is no item")
	assert.Zero(t, s.Completed)
}

func TestCountsAPanic(t *testing.T) {
	p := poolcount.New[int]()
	boom := func(context.Context, int) (int, error) { panic("boom") }
	var pe *pool.PanicError
	for _, err := range p.Run(context.Background(), slices.Values([]int{1}), boom) {
		assert.ErrorAs(t, err, &pe)
	}
	assert.Equal(t, group.Stats{Submitted: 1, Failed: 1}, p.Stats(), "a panicking item returned: not left in flight")
}

func TestNilPanicsAsPoolRunDoes(t *testing.T) {
	p := poolcount.New[int]()
	id := func(_ context.Context, v int) (int, error) { return v, nil }
	assert.Panics(t, func() { p.Run(context.Background(), nil, id) })
	assert.Panics(t, func() { p.Run(context.Background(), slices.Values([]int{1}), nil) })
}

func TestRunAllocatesNothingAnItem(t *testing.T) {
	p := poolcount.New[int]()
	id := func(_ context.Context, v int) (int, error) { return v, nil }
	items := make([]int, 10_000)
	run := func(n int) func() {
		return func() {
			for range p.Run(context.Background(), slices.Values(items[:n]), id, pool.Workers(2)) {
			}
		}
	}
	few, many := testing.AllocsPerRun(5, run(10)), testing.AllocsPerRun(5, run(len(items)))
	assert.Less(t, many-few, 20.0, "%v allocations for 10 items, %v for 10k: the counting must not allocate an item", few, many)
}

// TestPropertyCounters checks the counters against what the consumer saw, over random item
// counts, failures, workers, ordering and early stops: once a run has ended nothing is queued or
// in flight, completed and failed are the results delivered, and every item is submitted when the
// consumer took them all.
func TestPropertyCounters(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		items := rapid.SliceOf(rapid.IntRange(-3, 10)).Draw(rt, "items")
		take := rapid.IntRange(0, len(items)+1).Draw(rt, "take")
		opts := []pool.Option{pool.Workers(rapid.IntRange(1, 4).Draw(rt, "workers"))}
		if rapid.Bool().Draw(rt, "ordered") {
			opts = append(opts, pool.Ordered())
		}
		p := poolcount.New[int]()
		var seen group.Stats
		n := 0
		for _, err := range p.Run(context.Background(), slices.Values(items), work, opts...) {
			if err != nil {
				seen.Failed++
			} else {
				seen.Completed++
			}
			if n++; n == take {
				break
			}
		}
		s := p.Stats()
		seen.Submitted = s.Submitted
		if seen != s {
			rt.Fatalf("stats %+v, consumer saw %+v", s, seen)
		}
		if take >= len(items) && s.Submitted != int64(len(items)) {
			rt.Fatalf("submitted %d, want %d", s.Submitted, len(items))
		}
	})
}

func work(_ context.Context, v int) (int, error) {
	if v < 0 {
		return v, errBad
	}
	return v, nil
}

// TestStressCounters runs overlapping runs of random sizes while other goroutines read Stats:
// every snapshot is consistent (nothing negative, no more results than items read), and at the
// end each item is counted exactly once.
func TestStressCounters(t *testing.T) {
	for round := range 20 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			p := poolcount.New[int]()
			runs, size := 1+round%4, 1+round*137%2000
			items := make([]int, size)
			for i := range items {
				items[i] = i%7 - 1 // one in seven fails
			}
			done := make(chan struct{})
			var readers sync.WaitGroup
			for range 2 {
				readers.Go(func() {
					for {
						s := p.Stats()
						if s.Queued < 0 || s.InFlight < 0 || s.Completed+s.Failed > s.Submitted {
							t.Errorf("inconsistent snapshot %+v", s)
							return
						}
						select {
						case <-done:
							return
						default:
						}
					}
				})
			}
			var wg sync.WaitGroup
			for range runs {
				wg.Go(func() {
					for range p.Run(context.Background(), slices.Values(items), work, pool.Workers(1+round%3)) {
					}
				})
			}
			wg.Wait()
			close(done)
			readers.Wait()
			failed := int64(runs * countFailing(items))
			want := group.Stats{Submitted: int64(runs * size), Completed: int64(runs*size) - failed, Failed: failed}
			assert.Equal(t, want, p.Stats())
		})
	}
}

func countFailing(items []int) int {
	n := 0
	for _, v := range items {
		if v < 0 {
			n++
		}
	}
	return n
}
