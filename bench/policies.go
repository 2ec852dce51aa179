package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stagecoach-go/stagecoach/group"
)

// ShedRun is what one run of [ShedLoad] measured.
type ShedRun struct {
	// Served holds the latency of every item served (its work func ran), from the time it was
	// scheduled to arrive to the time its result was read, sorted.
	Served []time.Duration
	// Waited holds, for every item served, the time from its scheduled arrival to the start of
	// its work func, sorted: what MaxWait bounds, plus the generator's lag (Lags).
	Waited []time.Duration
	// Sojourns holds, for every item served, the time from its submission (TrySubmit) to its
	// result read, sorted: the latency without the generator's lag.
	Sojourns []time.Duration
	// Lags holds, for every arrival, how late the load generator submitted it: the time from
	// its scheduled arrival to its TrySubmit, sorted.
	Lags []time.Duration
	// Expired is how many items failed with group.ErrExpired without being run.
	Expired int
	// Elapsed is the time from the start of the schedule to the last result.
	Elapsed time.Duration
}

// ServedRate is the items served a second over the run.
func (s ShedRun) ServedRate() float64 { return float64(len(s.Served)) / s.Elapsed.Seconds() }

// CPUFor is a work func that keeps its worker busy for service on the CPU, the cost of serving
// one request, and returns its item.
func CPUFor(service time.Duration) func(context.Context, int) (int, error) {
	return func(_ context.Context, v int) (int, error) {
		for start := time.Now(); time.Since(start) < service; {
		}
		return v, nil
	}
}

// ShedLoad runs the open-loop schedule sched (see [Schedule]) against a group.Router of workers
// running [CPUFor](service), over [OpenLoopConns] groups, each opened with group.MaxWait(maxWait)
// if maxWait is above 0: one goroutine, the load generator, submits arrival k to group
// k % OpenLoopConns when it is due, without waiting (each group's window holds all of its
// arrivals), and one goroutine a group reads its results. Unlike [OpenLoop], a connection does
// not wait for a reply before it sends its next request: requests queue in the router, which is
// where a queue-wait deadline acts. ShedLoad returns the served items' latencies, when they
// started and how late the generator was, and the count of expired items, and an error if any
// item failed otherwise or was lost.
func ShedLoad(service time.Duration, workers int, sched []time.Duration, maxWait time.Duration) (ShedRun, error) {
	cpu := CPUFor(service)
	var start time.Time // set before the first submission, so before any work func reads it
	began := make([]time.Duration, len(sched))
	work := func(ctx context.Context, a int) (int, error) {
		began[a] = time.Since(start) // read once the reader has the result
		return cpu(ctx, a)
	}
	r := group.New[int](work, group.Workers(workers))
	defer r.Shutdown(context.Background())
	window := min(group.MaxWindow, len(sched)/OpenLoopConns+1)
	gs := make([]*group.Group[int, int], OpenLoopConns)
	for c := range gs {
		opts := []group.GroupOption{group.Window(window)}
		if maxWait > 0 {
			opts = append(opts, group.MaxWait(maxWait))
		}
		g, err := r.Open(context.Background(), c, opts...)
		if err != nil {
			return ShedRun{}, err
		}
		gs[c] = g
	}
	lat := make([]time.Duration, len(sched))
	var expired atomic.Int64
	errs := make([]error, len(gs))
	var readers sync.WaitGroup
	start = time.Now()
	var last atomic.Int64 // the last result, from start
	for c, g := range gs {
		readers.Go(func() {
			for a, err := range g.Results() {
				now := time.Since(start)
				switch {
				case err == nil:
					lat[a] = max(1, now-sched[a])
				case errors.Is(err, group.ErrExpired):
					expired.Add(1)
					lat[a] = -1
				default:
					errs[c] = errors.Join(errs[c], err)
				}
				for l := last.Load(); int64(now) > l && !last.CompareAndSwap(l, int64(now)); l = last.Load() {
				}
			}
		})
	}
	lags := make([]time.Duration, len(sched))
	errs = append(errs, generate(sched, start, gs, lags))
	for _, g := range gs {
		g.Close()
	}
	readers.Wait()
	run := ShedRun{Lags: lags, Expired: int(expired.Load()), Elapsed: time.Duration(last.Load())}
	for a, l := range lat {
		switch {
		case l > 0:
			run.Served = append(run.Served, l)
			run.Waited = append(run.Waited, began[a]-sched[a])
			run.Sojourns = append(run.Sojourns, l-lags[a])
		case l == 0:
			errs = append(errs, fmt.Errorf("bench: ShedLoad: arrival %d has no result", a))
		}
	}
	slices.Sort(run.Served)
	slices.Sort(run.Waited)
	slices.Sort(run.Sojourns)
	slices.Sort(run.Lags)
	return run, errors.Join(errs...)
}

// GeneratorTick is the shortest nap of [ShedLoad]'s load generator: it wakes at most once a tick
// and submits every arrival then due, as a network card's interrupt moderation hands a server
// its packets (Linux drivers default to tens of microseconds). Waking for every arrival, about
// 100,000 times a second at ShedLoad's rates, cost the 2-core machine about a tenth of its CPU in
// context switches, time the workers' wall-clock items lost; a tick delays a submission by at most
// itself, which the latencies from the scheduled arrival include.
const GeneratorTick = 50 * time.Microsecond

// generate submits the arrivals of sched to their groups when they are due, waking at most once
// a [GeneratorTick] (see pacer for how it sleeps), and records in lags how late it submitted
// each.
func generate(sched []time.Duration, start time.Time, gs []*group.Group[int, int], lags []time.Duration) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	preciseSleeps()
	for a := 0; a < len(sched); {
		now := time.Since(start)
		if sched[a] > now {
			nap(max(sched[a]-now, GeneratorTick))
			continue
		}
		for ; a < len(sched) && sched[a] <= now; a++ {
			lags[a] = time.Since(start) - sched[a]
			if err := gs[a%len(gs)].TrySubmit(a); err != nil {
				return fmt.Errorf("bench: ShedLoad: arrival %d: %w", a, err)
			}
		}
	}
	return nil
}

// ShedCapacity measures the items a second ShedLoad's router serves when n items are all due at
// once: the median of 3 runs.
func ShedCapacity(service time.Duration, workers, n int) (float64, error) {
	var rates [3]float64
	for i := range rates {
		run, err := ShedLoad(service, workers, Schedule(n, math.Inf(1), 0), 0)
		if err != nil {
			return 0, err
		}
		rates[i] = run.ServedRate()
	}
	slices.Sort(rates[:])
	return rates[1], nil
}

// errFlaky is the transient failure of [FlakyW4]'s items.
var errFlaky = errors.New("bench: a transient failure")

// FlakyW4 runs stream 0 of w (W4's items, whose stages wait on I/O) on a group.Router of n
// workers, where every tenth item fails its first two attempts after doing its waits, and
// retries it one of two ways: with retry true, the work func returns the error marked with
// group.Retryable and the group's Retry policy (3 attempts, backoff from backoff) sends the item
// back to the queue while the worker moves on; with retry false, the work func sleeps out the
// same backoffs on its worker and tries again, as a work func without Retry must. It checks
// every result.
func FlakyW4(w Workload, n int, backoff time.Duration, retry bool) error {
	tries := make([]atomic.Int32, w.Items)
	inner := Work(w)
	attempt := func(ctx context.Context, it Item) (Item, error) {
		out, err := inner(ctx, it)
		if err == nil && it.ID%10 == 0 && tries[it.ID].Add(1) <= 2 {
			return it, errFlaky
		}
		return out, err
	}
	work := func(ctx context.Context, it Item) (Item, error) {
		if retry {
			out, err := attempt(ctx, it)
			if errors.Is(err, errFlaky) {
				return it, group.Retryable(err)
			}
			return out, err
		}
		wait := backoff
		for {
			out, err := attempt(ctx, it)
			if !errors.Is(err, errFlaky) {
				return out, err
			}
			time.Sleep(wait/2 + rand.N(wait/2+1)) // holds the worker; the jitter Retry draws
			wait *= 2
		}
	}
	r := group.New[int](work, group.Workers(n))
	defer r.Shutdown(context.Background())
	opts := []group.GroupOption{group.Window(max(2*n, group.DefaultWindow))}
	if retry {
		opts = append(opts, group.Retry(group.RetryPolicy{Attempts: 3, Backoff: backoff}))
	}
	g, err := r.Open(context.Background(), 0, opts...)
	if err != nil {
		return err
	}
	return streamThrough(w, g)
}

// WeightedUnitRounds is the rounds of [Spin] in one unit of [WeightedShare]'s work, about a
// microsecond of CPU.
const WeightedUnitRounds = 500

// WeightedShare runs two backlogged groups on a group.Router of the given workers, opened with
// weights w0 and w1 (0 for no Weight option), and returns group 1's share of the work done, in
// units of CPU work counted by the work funcs themselves, when the first of the two has run all
// its items. Group 0 has items items costing 1, 2 or 3 units in turn, group 1 2 x items items
// costing 1 or 5: items of different cost, and enough of them that both stay busy until one
// finishes. Every worker is held until both backlogs are queued, so that neither starts ahead.
// It checks every result.
func WeightedShare(workers, items, w0, w1 int) (float64, error) {
	if workers < 1 || items < 1 || w0 < 0 || w1 < 0 {
		panic(fmt.Sprintf("bench: WeightedShare(%d workers, %d items, weights %d and %d): need a worker, an item and weights of 0 or more", workers, items, w0, w1))
	}
	type job struct{ g, i int }
	cost := [2]func(i int) int{
		func(i int) int { return 1 + i%3 },
		func(i int) int { return 1 + 4*(i%2) },
	}
	n := [2]int{items, 2 * items}
	var units, done [2]atomic.Int64
	var first atomic.Bool
	var share atomic.Uint64 // float64 bits, written once by the item that finishes a group first
	var held sync.WaitGroup
	held.Add(workers)
	gate := make(chan struct{})
	work := func(_ context.Context, j job) (job, error) {
		if j.g < 0 {
			held.Done()
			<-gate
			return j, nil
		}
		c := cost[j.g](j.i)
		if Spin(uint64(j.i), c*WeightedUnitRounds) == 0 {
			return j, errors.New("bench: WeightedShare: the mixer reached 0") // keeps the spin
		}
		units[j.g].Add(int64(c))
		if done[j.g].Add(1) == int64(n[j.g]) && first.CompareAndSwap(false, true) {
			u0, u1 := units[0].Load(), units[1].Load()
			share.Store(math.Float64bits(float64(u1) / float64(u0+u1)))
		}
		return j, nil
	}
	r := group.New[int](work, group.Workers(workers))
	defer r.Shutdown(context.Background())
	holder, err := r.Open(context.Background(), -1, group.Window(workers))
	if err != nil {
		return 0, err
	}
	for i := range workers {
		if err := holder.Submit(context.Background(), job{-1, i}); err != nil {
			return 0, err
		}
	}
	holder.Close()
	held.Wait()
	gs := []*group.Group[int, job]{holder}
	for k, w := range []int{w0, w1} {
		opts := []group.GroupOption{group.Window(n[k])}
		if w > 0 {
			opts = append(opts, group.Weight(w))
		}
		g, err := r.Open(context.Background(), k, opts...)
		if err != nil {
			close(gate)
			return 0, err
		}
		for i := range n[k] {
			if err := g.Submit(context.Background(), job{k, i}); err != nil {
				close(gate)
				return 0, err
			}
		}
		g.Close()
		gs = append(gs, g)
	}
	close(gate)
	errs := make([]error, len(gs))
	var readers sync.WaitGroup
	for c, g := range gs {
		readers.Go(func() {
			want := workers // the holder's items
			if c > 0 {
				want = n[c-1]
			}
			seen := make([]bool, want)
			for j, err := range g.Results() {
				switch {
				case err != nil:
					errs[c] = errors.Join(errs[c], err)
				case j.i < 0 || j.i >= want || seen[j.i]:
					errs[c] = errors.Join(errs[c], fmt.Errorf("bench: WeightedShare: group %d: item %d out of range or twice", c-1, j.i))
				default:
					seen[j.i] = true
				}
			}
			for i, ok := range seen {
				if !ok {
					errs[c] = errors.Join(errs[c], fmt.Errorf("bench: WeightedShare: group %d: item %d has no result", c-1, i))
					break
				}
			}
		})
	}
	readers.Wait()
	return math.Float64frombits(share.Load()), errors.Join(errs...)
}
