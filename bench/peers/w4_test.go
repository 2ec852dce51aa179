package peers_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/bench"
	"github.com/stagecoach-go/stagecoach/bench/peers"
)

// Every implementation, Stagecoach's and the peers', computes every item of a small W4 correctly
// at several concurrencies, one of them above the item count.
func TestEveryConcImplIsCorrect(t *testing.T) {
	d := bench.NewDelay(bench.IOWait)
	defer d.Stop()
	w := bench.W4(true, d)
	w.Items = 64
	for _, impl := range peers.ConcImpls() {
		for _, n := range []int{3, 100} {
			t.Run(fmt.Sprintf("%s/conc=%d", impl.Name, n), func(t *testing.T) {
				require.NoError(t, impl.Run(w, n))
			})
		}
	}
}

// BenchmarkW4 is bench's BenchmarkW4 with the peers (see bench.MeasureConc).
func BenchmarkW4(b *testing.B) {
	d := bench.NewDelay(bench.IOWait)
	defer d.Stop()
	wait := d.Typical(200) // the real length of one wait, for the ideal: see bench.MeasureConc
	w := bench.W4(testing.Short(), d)
	for _, impl := range peers.ConcImpls() {
		for _, n := range []int{16, 256, 1024} {
			b.Run(fmt.Sprintf("%s/conc=%d", impl.Name, n), func(b *testing.B) {
				bench.MeasureConc(b, w, d, wait, n, impl.Run)
			})
		}
	}
}
