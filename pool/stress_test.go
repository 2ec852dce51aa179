package pool_test

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/pool"
)

// stressRuns is how many random runs each stress test makes; scripts/test raises it for its
// stress pass.
var stressRuns = flag.Int("stress.runs", 300, "runs made by each stress test")

// stressConfig is one random run: sizes that cross chunk boundaries, any worker count, ordered or
// not, fail-fast or not, batch sizes from one to the chunk, and a parent context that can end or
// one that cannot (the run then checks its own ending flag instead of the context: see runCtx).
type stressConfig struct {
	n          int
	workers    int
	maxBatch   int
	ordered    bool
	window     int
	failFast   bool
	background bool
	look       time.Duration // how often the consumer looks at batches in progress; 0: the default
}

// parent is the context the run is given.
func (c stressConfig) parent(t *testing.T) context.Context {
	if c.background {
		return context.Background()
	}
	return t.Context()
}

func (c stressConfig) options() []pool.Option {
	opts := []pool.Option{pool.Workers(c.workers), pool.MaxBatch(c.maxBatch)}
	if c.ordered {
		opts = append(opts, pool.Ordered(), pool.Window(c.window))
	}
	if c.failFast {
		opts = append(opts, pool.FailFast())
	}
	if c.look > 0 {
		opts = append(opts, pool.LookEvery(c.look-1)) // 1 stands for 0: look whenever there is something
	}
	return opts
}

func drawStress(rng *rand.Rand) stressConfig {
	sizes := []int{1, 2, 255, 256, 257, 511, 512, 513, 1 + rng.IntN(6000)}
	return stressConfig{
		n:          sizes[rng.IntN(len(sizes))],
		workers:    1 + rng.IntN(8),
		maxBatch:   []int{1, 2, 7, 64, 256}[rng.IntN(5)],
		ordered:    rng.IntN(2) == 0,
		window:     1 + rng.IntN(700),
		failFast:   rng.IntN(3) == 0,
		background: rng.IntN(2) == 0,
		look:       []time.Duration{0, 1, 1 + time.Microsecond, 1 + 20*time.Microsecond}[rng.IntN(4)],
	}
}

// Every item read comes back exactly once, with its own result, whatever the size, the workers,
// the batch size, the ordering and the error policy: nothing lost, nothing twice.
func TestStressRunExactlyOnce(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 0))
	for run := range *stressRuns {
		c := drawStress(rng)
		got := make([]int, c.n)
		next := 0
		for v, err := range pool.Run(c.parent(t), slices.Values(ints(c.n)), double, c.options()...) {
			require.NoError(t, err, "seed %d run %d %+v", seed, run, c)
			require.Equal(t, 0, v%2, "seed %d run %d %+v: result %d is not a doubled item", seed, run, c, v)
			got[v/2]++
			if c.ordered {
				require.Equal(t, 2*next, v, "seed %d run %d %+v: out of order", seed, run, c)
				next++
			}
		}
		for i, k := range got {
			require.Equal(t, 1, k, "seed %d run %d %+v: item %d came back %d times", seed, run, c, i, k)
		}
	}
}

// The configuration in which a worker's stale view of the feed's head once lost the tail of a
// chunk: unordered runs with the default batch size, 1 to 4 workers, sizes up to 6000.
func TestStressRunDefaults(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 4))
	for run := range *stressRuns {
		n, workers := 1+rng.IntN(6000), 1+rng.IntN(4)
		got := 0
		for _, err := range pool.Run(t.Context(), slices.Values(ints(n)), double, pool.Workers(workers)) {
			require.NoError(t, err)
			got++
		}
		require.Equal(t, n, got, "seed %d run %d: results of %d items on %d workers", seed, run, n, workers)
	}
}

// The same over a channel source, with RunChan.
func TestStressRunChanExactlyOnce(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	for run := range *stressRuns / 3 {
		c := drawStress(rng)
		src := make(chan int, rng.IntN(64))
		go func() {
			defer close(src)
			for i := range c.n {
				src <- i
			}
		}()
		got := make([]int, c.n)
		for r := range pool.RunChan(c.parent(t), src, double, c.options()...) {
			require.NoError(t, r.Err, "seed %d run %d %+v", seed, run, c)
			got[r.Value/2]++
		}
		for i, k := range got {
			require.Equal(t, 1, k, "seed %d run %d %+v: item %d came back %d times", seed, run, c, i, k)
		}
	}
}

// A fail-fast run whose work func fails on one random item: every result before the error is a
// distinct item's, and the run ends with that item's error, delivered once.
func TestStressFailFastEndsWithTheError(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 2))
	for run := range *stressRuns / 3 {
		c := drawStress(rng)
		c.failFast = true
		bad := rng.IntN(c.n)
		work := func(_ context.Context, v int) (int, error) {
			if v == bad {
				return 0, fmt.Errorf("item %d: %w", v, errOdd)
			}
			return 2 * v, nil
		}
		seen := map[int]bool{}
		var errs int
		for v, err := range pool.Run(c.parent(t), slices.Values(ints(c.n)), work, c.options()...) {
			if err != nil {
				errs++
				require.ErrorIs(t, err, errOdd, "seed %d run %d %+v", seed, run, c)
				require.Equal(t, bad, v, "the error comes with its item")
				continue
			}
			require.False(t, seen[v], "seed %d run %d %+v: %d twice", seed, run, c, v)
			seen[v] = true
		}
		require.Equal(t, 1, errs, "seed %d run %d %+v: the run ends with the one error", seed, run, c)
	}
}

func double(_ context.Context, v int) (int, error) { return 2 * v, nil }

// ending is one way a stress run's context ends.
type ending int

const (
	endByCancel  ending = iota // the consumer cancels the parent context
	endByFailure               // a fail-fast run's work func fails
	endByBreak                 // the consumer breaks out of the range
	endingKinds
)

// watchedSource yields 0, 1, 2, ... until its consumer stops it, and counts the items it yields
// once it has seen the run's context ended (the context the work funcs get, which watch
// records): the reader must take at most the item in hand after the end.
type watchedSource struct {
	ctx   atomic.Pointer[context.Context]
	after atomic.Int64
}

func (s *watchedSource) watch(ctx context.Context) {
	if s.ctx.Load() == nil {
		s.ctx.CompareAndSwap(nil, &ctx)
	}
}

func (s *watchedSource) seq(yield func(int) bool) {
	for i := 0; ; i++ {
		if c := s.ctx.Load(); c != nil && (*c).Err() != nil {
			s.after.Add(1)
		}
		if !yield(i) {
			return
		}
	}
}

// withErrors is seq as a source that can fail and does not.
func withErrors(seq func(func(int) bool)) func(func(int, error) bool) {
	return func(yield func(int, error) bool) {
		seq(func(v int) bool { return yield(v, nil) })
	}
}

// Once the run's context has ended, however it ended, the source is not read further than the
// item in hand: it yields at most one item after it has seen the end. Run and RunSeq2 alike.
func TestStressRunReadsNothingAfterTheEnd(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 5))
	var worst [endingKinds]int64
	var failures []string
	for run := range *stressRuns / 3 {
		c := drawStress(rng)
		how := ending(rng.IntN(int(endingKinds)))
		k := rng.IntN(3000)
		c.failFast = how == endByFailure
		c.background = c.background && how != endByCancel
		ctx, cancel := context.WithCancel(c.parent(t))
		src := &watchedSource{}
		work := func(ctx context.Context, v int) (int, error) {
			src.watch(ctx)
			if how == endByFailure && v == k {
				return v, errOdd
			}
			return 2 * v, nil
		}
		results := pool.Run(ctx, src.seq, work, c.options()...)
		seq2 := rng.IntN(2) == 0
		if seq2 {
			results = pool.RunSeq2(ctx, withErrors(src.seq), work, c.options()...)
		}
		n := 0
		for range results {
			if n++; n == k+1 {
				if how == endByBreak {
					break
				}
				cancel()
			}
		}
		cancel()
		after := src.after.Load()
		worst[how] = max(worst[how], after)
		if after > 1 {
			failures = append(failures, fmt.Sprintf("run %d %+v RunSeq2=%v ending %d at %d: %d items read after the end",
				run, c, seq2, how, k, after))
		}
	}
	t.Logf("most items read after the end, by cancel, failure, break: %v", worst)
	require.Empty(t, failures, "seed %d: the source was read past the end", seed)
}

// A fail-fast run stops starting items once its context has ended, as exactly with a parent
// that can never end (the run then checks a flag of its own, see runCtx) as with one that can.
// A worker checks the context before each item, so a worker may start one item that it had
// checked just before the failure (the race is the work func's), but no more: at most
// workers-1 items start under an ended context, whatever the parent. The failing work func
// gives the run's context many children first, so that cancelling it takes long: an item that
// starts while the cancel is under way, under a context that has already ended, counts.
func TestStressFailFastStartsUnderAnEndedContext(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 6))
	var late, items [2]int64 // by parent: cancellable, Background
	var failures []string
	for run := range *stressRuns / 6 { // two runs each, one a parent kind
		for kind, parent := range []context.Context{t.Context(), context.Background()} {
			c := drawStress(rng)
			c.failFast = true
			c.workers = 2 + rng.IntN(7)
			bad := rng.IntN(c.n)
			var started, ended atomic.Int64
			var children []context.CancelFunc
			work := func(ctx context.Context, v int) (int, error) {
				started.Add(1)
				if ctx.Err() != nil {
					ended.Add(1)
				}
				if v != bad {
					return 2 * v, nil
				}
				for range 500 {
					_, cancel := context.WithCancel(ctx)
					children = append(children, cancel)
				}
				return v, errOdd
			}
			errs := 0
			for _, err := range pool.Run(parent, slices.Values(ints(c.n)), work, c.options()...) {
				if err != nil {
					errs++
				}
			}
			for _, cancel := range children {
				cancel()
			}
			require.Equal(t, 1, errs, "seed %d run %d %+v", seed, run, c)
			late[kind] += ended.Load()
			items[kind] += started.Load()
			if ended.Load() > int64(c.workers-1) {
				failures = append(failures, fmt.Sprintf("run %d %+v background=%v: %d items started under an ended context",
					run, c, kind == 1, ended.Load()))
			}
		}
	}
	t.Logf("work funcs started under an ended context: %d of %d (cancellable parent), %d of %d (Background)",
		late[0], items[0], late[1], items[1])
	require.Empty(t, failures, "seed %d", seed)
}

// wide is an item of 256 bytes: a worker's result batches start with room for 16 of them and
// grow as its claims need (see TestRunMemoryPerWorker), where batches of ints start full.
type wide struct {
	i   int
	pad [248]byte
}

// Exactly once with items large enough that batches grow while they are filled, with failures
// among them: every item's result, its error where it failed, in order where asked.
func TestStressRunWideItems(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 7))
	for run := range *stressRuns / 6 { // the largest items of the stress tests: fewer runs
		c := drawStress(rng)
		c.failFast = false
		fails := 1 + rng.IntN(20) // every fails-th item fails
		src := func(yield func(wide) bool) {
			for i := range c.n {
				if !yield(wide{i: i, pad: [248]byte{byte(i)}}) {
					return
				}
			}
		}
		work := func(_ context.Context, v wide) (wide, error) {
			if v.i%fails == 0 {
				return wide{}, errOdd
			}
			v.i = -v.i
			return v, nil
		}
		got := make([]int, c.n)
		next := 0
		for v, err := range pool.Run(c.parent(t), src, work, c.options()...) {
			i := -v.i
			if err != nil {
				require.ErrorIs(t, err, errOdd, "seed %d run %d %+v", seed, run, c)
				i = v.i // a failed item comes back as it went in
			}
			require.Equal(t, byte(i), v.pad[0], "seed %d run %d %+v: item %d's result carries another's", seed, run, c, i)
			require.Equal(t, i%fails == 0, err != nil, "seed %d run %d %+v: item %d", seed, run, c, i)
			got[i]++
			if c.ordered {
				require.Equal(t, next, i, "seed %d run %d %+v: out of order", seed, run, c)
				next++
			}
		}
		for i, k := range got {
			require.Equal(t, 1, k, "seed %d run %d %+v: item %d came back %d times", seed, run, c, i, k)
		}
	}
}
