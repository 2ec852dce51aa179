package bench_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stagecoach-go/stagecoach/bench"
)

// measure runs one implementation of w as a sub-benchmark named for the implementation.
func measure(b *testing.B, name string, w bench.Workload, run bench.Run) {
	b.Run(name, func(b *testing.B) {
		if errors.Is(run(w), bench.ErrNotImplemented) {
			b.Skipf("%s does not implement %s", name, w.Name)
		}
		bench.Measure(b, w, run)
	})
}

func BenchmarkW1(b *testing.B) {
	for _, impl := range bench.Impls() {
		measure(b, impl.Name, bench.W1(testing.Short()), impl.Run)
	}
}

func BenchmarkW2(b *testing.B) {
	for _, impl := range bench.Impls() {
		measure(b, impl.Name, bench.W2(testing.Short()), impl.Run)
	}
}

func BenchmarkW3(b *testing.B) {
	for _, impl := range bench.Impls() {
		measure(b, impl.Name, bench.W3(testing.Short()), impl.Run)
	}
}

func BenchmarkStages(b *testing.B) {
	for _, impl := range bench.Impls() {
		for _, n := range []int{1, 2, 4, 8} {
			measure(b, fmt.Sprintf("%s/stages=%d", impl.Name, n), bench.StageCount(n, testing.Short()), impl.Run)
		}
	}
}
