package bench

import (
	"context"
	"fmt"
	"iter"
)

// Item is the unit of work every workload moves through its stages. It is a small value type, so
// an implementation that keeps it off the heap allocates nothing per item.
type Item struct {
	// ID is the item's position in its stream's input, from 0.
	ID int
	// Stream is the number of the stream the item was submitted on (W3); 0 for single-stream runs.
	Stream int
	// Val is what the stages transform; every stage applies its own affine step to it, so the final
	// value proves that every stage ran exactly once and in order.
	Val uint64
	// Spin holds the result of a CPU stage's busy work, so the compiler cannot remove that work.
	// It is not checked.
	Spin uint64
}

// Stage is the shape of every stage func, the shape pipe, fsm (with a next state) and pool share.
type Stage = func(context.Context, Item) (Item, error)

// mult is the multiplier of every stage's affine step; stage i adds addend(i), so the steps do not
// commute and a skipped, repeated or reordered stage changes the final value.
const mult = 6364136223846793005

func addend(i int) uint64 { return 1442695040888963407 + uint64(i)*2 }

// step is stage i's transformation of Val.
func step(v uint64, i int) uint64 { return v*mult + addend(i) }

// Trivial returns n trivial stages: each applies its affine step to Val and nothing else.
// Trivial panics if n is below 1.
func Trivial(n int) []Stage {
	mustStages(n)
	stages := make([]Stage, n)
	for i := range stages {
		stages[i] = func(_ context.Context, it Item) (Item, error) {
			it.Val = step(it.Val, i)
			return it, nil
		}
	}
	return stages
}

// SpinRounds is the number of mixing rounds a CPU stage runs: about 2 us on this project's
// machines. The work is fixed, not timed, so every run of a benchmark does the same work.
const SpinRounds = 1000

// CPU returns n stages that each burn about 2 us of CPU ([SpinRounds] rounds of integer mixing)
// before applying their affine step. CPU panics if n is below 1.
func CPU(n int) []Stage {
	mustStages(n)
	stages := make([]Stage, n)
	for i := range stages {
		stages[i] = func(_ context.Context, it Item) (Item, error) {
			it.Spin = Spin(it.Val, SpinRounds)
			it.Val = step(it.Val, i)
			return it, nil
		}
	}
	return stages
}

// Spin runs rounds of xorshift-multiply mixing seeded by seed and returns the result.
func Spin(seed uint64, rounds int) uint64 {
	h := seed | 1
	for range rounds {
		h ^= h >> 33
		h *= 0xff51afd7ed558ccd
		h ^= h >> 29
	}
	return h
}

func mustStages(n int) {
	if n < 1 {
		panic(fmt.Sprintf("bench: stage count must be at least 1, got %d", n))
	}
}

// Workload is one benchmark's input: Streams streams of Items items each, run through Stages in
// order. One benchmark op processes the whole workload.
type Workload struct {
	// Name is the benchmark's top-level name: W1, W2, W3 or Stages.
	Name string
	// Streams is the number of independent input streams (1 except for W3).
	Streams int
	// Items is the number of items in each stream.
	Items int
	// Stages are the stage funcs every item goes through, in order.
	Stages []Stage
}

// Size picks a workload's full size or, with short set (go test -short, for CI), a small one
// that still exercises every implementation.
func Size(short bool, full, small int) int {
	if short {
		return small
	}
	return full
}

// W1 is 1M items through 4 trivial stages: the per-item overhead of a design.
func W1(short bool) Workload {
	return Workload{Name: "W1", Streams: 1, Items: Size(short, 1_000_000, 10_000), Stages: Trivial(4)}
}

// W2 is 100k items through 4 stages of about 2 us of CPU each: how well a design uses the cores.
func W2(short bool) Workload {
	return Workload{Name: "W2", Streams: 1, Items: Size(short, 100_000, 1_000), Stages: CPU(4)}
}

// W3 is 64 streams of 10k items each through 4 trivial stages; every stream must get back exactly
// its own results.
func W3(short bool) Workload {
	return Workload{Name: "W3", Streams: 64, Items: Size(short, 10_000, 200), Stages: Trivial(4)}
}

// StageCount is 100k items through n trivial stages: how a design's cost grows with the stage count.
func StageCount(n int, short bool) Workload {
	return Workload{Name: "Stages", Streams: 1, Items: Size(short, 100_000, 5_000), Stages: Trivial(n)}
}

// Total is the number of items in the whole workload.
func (w Workload) Total() int { return w.Streams * w.Items }

// Input returns item id of stream s as it enters the first stage.
func (w Workload) Input(s, id int) Item {
	return Item{ID: id, Stream: s, Val: uint64(s)<<40 ^ uint64(id)*0x9e3779b97f4a7c15}
}

// Source returns stream s's input as a sequence. The sequence can be ranged over any number of times.
func (w Workload) Source(s int) iter.Seq[Item] {
	return func(yield func(Item) bool) {
		for id := range w.Items {
			if !yield(w.Input(s, id)) {
				return
			}
		}
	}
}

// Slice returns stream s's input as a slice.
func (w Workload) Slice(s int) []Item {
	items := make([]Item, w.Items)
	for id := range items {
		items[id] = w.Input(s, id)
	}
	return items
}

// Want returns the value Val must hold after it has passed every stage once, in order.
func (w Workload) Want(in Item) uint64 {
	v := in.Val
	for i := range w.Stages {
		v = step(v, i)
	}
	return v
}

// Apply runs it through every stage in order on the calling goroutine: the direct baseline and
// the reference of what every implementation must compute.
func (w Workload) Apply(ctx context.Context, it Item) (Item, error) {
	for _, s := range w.Stages {
		var err error
		if it, err = s(ctx, it); err != nil {
			return it, err
		}
	}
	return it, nil
}
