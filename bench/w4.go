package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/pipe"
	"github.com/stagecoach-go/stagecoach/pool"
)

// IOWait is the nominal wait of a W4 stage: about what a call to a nearby database takes.
const IOWait = 100 * time.Microsecond

// Waiting returns n stages that each wait on d (see [Delay]) before applying their affine step:
// stages bound by I/O, not by the CPU. Waiting panics if n is below 1 or d is nil.
func Waiting(n int, d *Delay) []Stage {
	mustStages(n)
	if d == nil {
		panic("bench: Waiting needs a Delay, got nil")
	}
	stages := make([]Stage, n)
	for i := range stages {
		stages[i] = func(ctx context.Context, it Item) (Item, error) {
			if err := d.Wait(ctx); err != nil {
				return it, err
			}
			it.Val = step(it.Val, i)
			return it, nil
		}
	}
	return stages
}

// W4 is 20k items through 4 stages that each wait on d (made with [NewDelay] of [IOWait]) without
// using the CPU: what matters is how many items are in flight, not the cores.
func W4(short bool, d *Delay) Workload {
	return Workload{Name: "W4", Streams: 1, Items: Size(short, 20_000, 400), Stages: Waiting(4, d)}
}

// ConcRun is one implementation of a single-stream workload at a given concurrency n: n items in
// flight at once. Like [Run], it processes the whole of w once and checks every result.
type ConcRun func(w Workload, n int) error

// ConcImpl is one named implementation of the I/O-bound workload.
type ConcImpl struct {
	// Name is the <impl> part of the benchmark names.
	Name string
	// Run processes a whole single-stream workload at a concurrency and checks every result.
	Run ConcRun
}

// ConcImpls returns Stagecoach's implementations at a given concurrency, in report order. Each is
// told the concurrency the way its package offers: see each func.
func ConcImpls() []ConcImpl {
	return []ConcImpl{
		{Name: "direct", Run: DirectN},
		{Name: "hand", Run: HandN},
		{Name: "pipe", Run: PipeN},
		{Name: "pool", Run: PoolN},
		{Name: "group", Run: GroupN},
	}
}

func mustConc(n int) {
	if n < 1 {
		panic(fmt.Sprintf("bench: concurrency must be at least 1, got %d", n))
	}
}

// DirectN runs the items of stream 0 on n goroutines, each calling the stage funcs in order on a
// contiguous range of the items: n items in flight with no hand-over at all. DirectN panics if n
// is below 1.
func DirectN(w Workload, n int) error {
	mustConc(n)
	ctx := context.Background()
	sinks := make([]*Sink, n)
	var wg sync.WaitGroup
	for g := range n {
		lo, hi := w.Items*g/n, w.Items*(g+1)/n
		sinks[g] = w.NewSink(0)
		wg.Go(func() {
			for id := lo; id < hi; id++ {
				sinks[g].Add(w.Apply(ctx, w.Input(0, id)))
			}
		})
	}
	wg.Wait()
	all := w.NewSink(0)
	for _, k := range sinks {
		all.Merge(k)
	}
	return all.Err()
}

// PipeN runs stream 0 through one pipe.Map a stage, each with pipe.Workers(n): a user of package
// pipe sets the concurrency of every stage, so up to n items wait in each stage at once (4n in
// all for W4's four stages). PipeN panics if n is below 1.
func PipeN(w Workload, n int) error {
	mustConc(n)
	p := pipe.New(context.Background())
	ch := pipe.FromSeq(p, w.Source(0))
	for _, stage := range w.Stages {
		ch = pipe.Map(p, ch, stage, pipe.Workers(n))
	}
	k := w.NewSink(0)
	err := pipe.ForEach(p, ch, func(_ context.Context, it Item) error {
		k.Add(it, nil)
		return nil
	})
	return errors.Join(err, k.Err())
}

// PoolN runs stream 0 with pool.Run over [Work] with pool.Workers(n): n items in flight. PoolN
// panics if n is below 1.
func PoolN(w Workload, n int) error {
	mustConc(n)
	k := w.NewSink(0)
	for it, err := range pool.Run(context.Background(), w.Source(0), Work(w), pool.Workers(n)) {
		k.Add(it, err)
	}
	return k.Err()
}

// GroupN runs stream 0 as one group of a router with group.Workers(n) running [Work]. The group's
// window bounds its items in flight, so it is opened with group.Window(2n) (DefaultWindow at
// least): with the default window, at most 256 items would be in flight whatever n. One goroutine
// submits while this one reads the results. GroupN panics if n is below 1.
func GroupN(w Workload, n int) error {
	mustConc(n)
	r := group.New[int](Work(w), group.Workers(n))
	defer r.Shutdown(context.Background())
	g, err := r.Open(context.Background(), 0, group.Window(max(2*n, group.DefaultWindow)))
	if err != nil {
		return err
	}
	return streamThrough(w, g)
}

// streamThrough runs stream 0 of w through the group g: one goroutine submits while this one
// reads the results into w's sink, which checks them. It closes g.
func streamThrough(w Workload, g *group.Group[int, Item]) error {
	submitted := make(chan error, 1)
	go func() {
		defer g.Close()
		for it := range w.Source(0) {
			if err := g.Submit(context.Background(), it); err != nil {
				submitted <- err
				return
			}
		}
		submitted <- nil
	}()
	k := w.NewSink(0)
	for it, err := range g.Results() {
		k.Add(it, err)
	}
	return errors.Join(<-submitted, k.Err())
}

// MeasureConc benchmarks run over w at concurrency n, w's stages waiting on d, and reports ns/item,
// x-ideal and wait-ns. Like [Measure], it runs w once and checks it before the timer starts, and
// checks the timed runs too.
//
// x-ideal is the measured time over the ideal time, items x stages x wait / n: the time it would
// take if n waits always overlapped and nothing else cost anything. wait is the real length of one
// wait measured once beforehand with [Delay.Typical], when nothing else of the process runs, not
// the nominal [IOWait]: the clock's and the waiter's wake-ups are part of every wait, whatever the
// design, so the ideal counts them. wait-ns is the mean length of a wait during the timed runs as the stages saw it:
// when it grows past wait, the machine is too busy to wake the waiters on time (at high n on few
// cores, waking them is most of the work).
func MeasureConc(b *testing.B, w Workload, d *Delay, wait time.Duration, n int, run ConcRun) {
	b.Helper()
	if err := run(w, n); err != nil {
		b.Fatalf("%s: check before timing: %v", w.Name, err)
	}
	waits0, waited0 := d.Waited()
	b.ResetTimer()
	for b.Loop() {
		if err := run(w, n); err != nil {
			b.Fatalf("%s: %v", w.Name, err)
		}
	}
	b.StopTimer()
	waits, waited := d.Waited()
	perItem := float64(b.Elapsed().Nanoseconds()) / (float64(b.N) * float64(w.Total()))
	ideal := float64(wait.Nanoseconds()) * float64(len(w.Stages)) / float64(n)
	b.ReportMetric(perItem, "ns/item")
	b.ReportMetric(perItem/ideal, "x-ideal")
	if waits > waits0 {
		b.ReportMetric(float64((waited-waited0).Nanoseconds())/float64(waits-waits0), "wait-ns")
	}
}
