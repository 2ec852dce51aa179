package fsm_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// item is a small value item, as a stage func would pass it along.
type item struct {
	id  int
	val uint64
}

func addStage(k uint64, next int) fsm.StageFunc[int, item] {
	return func(_ context.Context, it item) (item, int, error) {
		it.val = it.val*31 + k
		return it, next, nil
	}
}

func plainStage(k uint64) func(context.Context, item) (item, error) {
	return func(_ context.Context, it item) (item, error) {
		it.val = it.val*31 + k
		return it, nil
	}
}

// fourStages builds the machine 0 -> 1 -> 2 -> 3 -> 4 (terminal) of trivial stages.
func fourStages(tb testing.TB) *fsm.Machine[int, item] {
	b := fsm.NewBuilder[int, item]()
	for s := range 4 {
		b.Stage(s, addStage(uint64(s), s+1), s+1)
	}
	m, err := b.Terminal(4).Build(0)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// benchRuns runs one item through m again and again, as bench.Measure does a workload: every run
// must end in state 4 with no error, and the final value must be what the four stage bodies give
// when applied as many times (computed here, not by the machine). It reports ns/item (one item is
// one run), B/item, allocs/item and ns/transition.
func benchRuns(b *testing.B, m *fsm.Machine[int, item], ctx context.Context) {
	b.Helper()
	it := item{id: 1}
	runs := 0
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for b.Loop() {
		var state int
		var err error
		it, state, err = m.Run(ctx, it)
		if err != nil || state != 4 {
			b.Fatalf("run %d: state %d, error %v; want state 4, no error", runs, state, err)
		}
		runs++
	}
	runtime.ReadMemStats(&after)
	var want uint64
	for range runs {
		for k := range uint64(4) {
			want = want*31 + k
		}
	}
	if it.val != want || it.id != 1 {
		b.Fatalf("after %d runs the item is %+v, want {id:1 val:%d}", runs, it, want)
	}
	reportPerItem(b, runs, 4, before, after)
}

func reportPerItem(b *testing.B, items, stages int, before, after runtime.MemStats) {
	ns := float64(b.Elapsed().Nanoseconds())
	b.ReportMetric(ns/float64(items), "ns/item")
	b.ReportMetric(ns/float64(items*stages), "ns/transition")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(items), "B/item")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(items), "allocs/item")
}

// BenchmarkMachineRun runs one item through four trivial stages; BenchmarkIndirectCalls calls the
// same four stage funcs through func values, the floor a machine is measured against (the target:
// a run within 2 times it), and BenchmarkDirectCalls the bodies of BenchmarkMachineRunSteps, from
// a local slice.
func BenchmarkMachineRun(b *testing.B) {
	benchRuns(b, fourStages(b), context.Background())
}

// BenchmarkMachineRunCancellable is BenchmarkMachineRun with a context that can be cancelled, so
// the look at the context before every stage is an atomic load, not a constant nil.
func BenchmarkMachineRunCancellable(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	benchRuns(b, fourStages(b), ctx)
}

func BenchmarkDirectCalls(b *testing.B) {
	stages := []func(context.Context, item) (item, error){plainStage(0), plainStage(1), plainStage(2), plainStage(3)}
	ctx := context.Background()
	it := item{id: 1}
	runs := 0
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for b.Loop() {
		for _, s := range stages {
			it, _ = s(ctx, it)
		}
		runs++
	}
	runtime.ReadMemStats(&after)
	if it.val == 0 {
		b.Fatal("no stage ran")
	}
	reportPerItem(b, runs, 4, before, after)
}

// indirect holds the four stages of fourStages, the very funcs BenchmarkMachineRun runs, in a
// package-level slice: the compiler cannot know which func an element holds, so it can neither
// inline nor devirtualize the calls of BenchmarkIndirectCalls.
var indirect = func() []fsm.StageFunc[int, item] {
	fns := make([]fsm.StageFunc[int, item], 4)
	for s := range fns {
		fns[s] = addStage(uint64(s), s+1)
	}
	return fns
}()

// BenchmarkIndirectCalls calls the four stage funcs of BenchmarkMachineRun through func values in
// a loop, with the same context, item and checks: the floor for any dispatcher, which must at
// least make these four indirect calls. Each call's next state is the index of the next call, as
// a machine's table gives it, so the loop cannot skip the returned state either.
func BenchmarkIndirectCalls(b *testing.B) {
	ctx := context.Background()
	it := item{id: 1}
	runs := 0
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fns := indirect
	for b.Loop() {
		for s := 0; s < len(fns); {
			var err error
			if it, s, err = fns[s](ctx, it); err != nil {
				b.Fatal(err)
			}
		}
		runs++
	}
	runtime.ReadMemStats(&after)
	var want uint64
	for range runs {
		for k := range uint64(4) {
			want = want*31 + k
		}
	}
	if it.val != want || it.id != 1 {
		b.Fatalf("after %d runs the item is %+v, want {id:1 val:%d}", runs, it, want)
	}
	reportPerItem(b, runs, 4, before, after)
}

// BenchmarkMachineRunSteps is BenchmarkMachineRun with the stages registered with Step.
func BenchmarkMachineRunSteps(b *testing.B) {
	bld := fsm.NewBuilder[int, item]()
	for s := range 4 {
		bld.Step(s, plainStage(uint64(s)), s+1)
	}
	m, err := bld.Terminal(4).Build(0)
	if err != nil {
		b.Fatal(err)
	}
	benchRuns(b, m, context.Background())
}
