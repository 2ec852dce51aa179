package bench_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench"
)

// BenchmarkW4 runs the I/O-bound workload on every design at concurrency 16, 256 and 1024 (see
// [bench.MeasureConc] for x-ideal and wait-ns).
func BenchmarkW4(b *testing.B) {
	d := bench.NewDelay(bench.IOWait)
	defer d.Stop()
	wait := d.Typical(200) // the real length of one wait, for the ideal: see MeasureConc
	w := bench.W4(testing.Short(), d)
	for _, impl := range bench.ConcImpls() {
		for _, n := range []int{16, 256, 1024} {
			b.Run(fmt.Sprintf("%s/conc=%d", impl.Name, n), func(b *testing.B) {
				bench.MeasureConc(b, w, d, wait, n, impl.Run)
			})
		}
	}
}

// Every design computes every item of a small W4 correctly at several concurrencies, one of them
// above the item count.
func TestConcImplsAreCorrect(t *testing.T) {
	d := bench.NewDelay(bench.IOWait)
	defer d.Stop()
	w := bench.W4(true, d)
	w.Items = 64
	for _, impl := range bench.ConcImpls() {
		for _, n := range []int{3, 16, 100} {
			t.Run(fmt.Sprintf("%s/conc=%d", impl.Name, n), func(t *testing.T) {
				require.NoError(t, impl.Run(w, n))
			})
		}
	}
}

// Misuse panics with a message naming the bad value.
func TestNewWorkloadsPanicOnBadSizes(t *testing.T) {
	d := bench.NewDelay(bench.IOWait)
	defer d.Stop()
	w := bench.W4(true, d)
	assert.PanicsWithValue(t, "bench: concurrency must be at least 1, got 0", func() { _ = bench.PoolN(w, 0) })
	assert.PanicsWithValue(t, "bench: Waiting needs a Delay, got nil", func() { bench.Waiting(4, nil) })
	assert.PanicsWithValue(t, "bench: stage count must be at least 1, got 0", func() { bench.Waiting(0, d) })
	assert.PanicsWithValue(t, "bench: a request/response workload needs at least 1 client, got -1",
		func() { bench.RequestResponse(-1, true) })
}
