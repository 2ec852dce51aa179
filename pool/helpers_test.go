package pool_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"

	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/pool"
)

// errOdd is the error the test work func gives for the items it is told to fail.
var errOdd = errors.New("item failed")

// script says what the test work func does with each item: how long it dawdles (in yields of the
// processor, not sleeps), and whether it fails or panics.
type script struct {
	spins  []int
	fails  map[int]bool
	panics map[int]bool
}

func drawScript(t *rapid.T, n int, faults bool) script {
	s := script{spins: make([]int, n), fails: map[int]bool{}, panics: map[int]bool{}}
	for i := range n {
		s.spins[i] = rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("spins[%d]", i))
		if faults {
			s.fails[i] = rapid.IntRange(0, 9).Draw(t, fmt.Sprintf("fault[%d]", i)) == 0
			s.panics[i] = !s.fails[i] && rapid.IntRange(0, 19).Draw(t, fmt.Sprintf("panic[%d]", i)) == 0
		}
	}
	return s
}

// work is the work func the script describes: item i becomes 3*i+1 unless it fails or panics.
func (s script) work(_ context.Context, i int) (int, error) {
	for range s.spins[i] {
		runtime.Gosched()
	}
	if s.fails[i] {
		return -1, fmt.Errorf("item %d: %w", i, errOdd)
	}
	if s.panics[i] {
		panic(fmt.Sprintf("panic on item %d", i))
	}
	return 3*i + 1, nil
}

// drawOptions draws a random configuration of workers, batch size, and ordering.
func drawOptions(t *rapid.T) (opts []pool.Option, ordered bool) {
	opts = append(opts, pool.Workers(rapid.IntRange(1, 8).Draw(t, "workers")))
	opts = append(opts, pool.MaxBatch(rapid.IntRange(1, 256).Draw(t, "maxBatch")))
	if ordered = rapid.Bool().Draw(t, "ordered"); ordered {
		opts = append(opts, pool.Ordered(), pool.Window(rapid.IntRange(1, 600).Draw(t, "window")))
	}
	if rapid.Bool().Draw(t, "lookAlways") {
		opts = append(opts, pool.LookEvery(0)) // take finished results early all the time
	}
	return opts, ordered
}

// outcome is one pair a run yielded.
type outcome struct {
	v   int
	err error
}

func collect(seq func(func(int, error) bool)) []outcome {
	var got []outcome
	for v, err := range seq {
		got = append(got, outcome{v, err})
	}
	return got
}

func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// neverEnding yields 0, 1, 2, ... until its consumer stops it.
func neverEnding(yield func(int) bool) {
	for i := 0; ; i++ {
		if !yield(i) {
			return
		}
	}
}

func sorted(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
