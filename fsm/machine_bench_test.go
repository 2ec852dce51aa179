package fsm_test

import (
	"context"
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

// BenchmarkMachineRun runs one item through four trivial stages; BenchmarkDirectCalls calls the
// same four stage bodies through func values, the floor a machine is measured against.
func BenchmarkMachineRun(b *testing.B) {
	m := fourStages(b)
	ctx := context.Background()
	it := item{id: 1}
	for b.Loop() {
		it, _, _ = m.Run(ctx, it)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4), "ns/transition")
	if it.val == 0 {
		b.Fatal("no stage ran")
	}
}

func BenchmarkMachineRunCancellable(b *testing.B) {
	m := fourStages(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	it := item{id: 1}
	for b.Loop() {
		it, _, _ = m.Run(ctx, it)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4), "ns/transition")
}

func BenchmarkDirectCalls(b *testing.B) {
	stages := []func(context.Context, item) (item, error){plainStage(0), plainStage(1), plainStage(2), plainStage(3)}
	ctx := context.Background()
	it := item{id: 1}
	for b.Loop() {
		for _, s := range stages {
			it, _ = s(ctx, it)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4), "ns/transition")
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
	ctx := context.Background()
	it := item{id: 1}
	for b.Loop() {
		it, _, _ = m.Run(ctx, it)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4), "ns/transition")
}
