package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// WeightedShare returns the weight-3 group's share of the work near three quarters, and with no
// weights near an equal share of the service time (the second group's items cost 3 units on
// average against the first's 2, so a share of the service time near one half is a share of the
// units near it too); it checks every result on the way. A short run can be thrown off by a
// stall of a worker's thread (see group's TestStressWeightedShares), so a run out of range is
// repeated with three times the items, up to twice.
func TestWeightedShareMeasuresTheWeightedGroupsShare(t *testing.T) {
	for _, workers := range []int{1, 3} {
		for _, c := range []struct {
			w0, w1      int
			want, delta float64
		}{{1, 3, 0.75, 0.05}, {0, 0, 0.5, 0.1}} {
			var share float64
			for attempt, items := 0, 2000; attempt < 3; attempt, items = attempt+1, 3*items {
				var err error
				share, err = WeightedShare(workers, items, c.w0, c.w1)
				require.NoError(t, err)
				if share >= c.want-c.delta && share <= c.want+c.delta {
					break
				}
				t.Logf("weights %d and %d, %d workers, %d items: share %.3f", c.w0, c.w1, workers, items, share)
			}
			assert.InDelta(t, c.want, share, c.delta, "weights %d and %d, %d workers", c.w0, c.w1, workers)
		}
	}
}

func TestWeightedSharePanicsOnBadInput(t *testing.T) {
	assert.PanicsWithValue(t, "bench: WeightedShare(0 workers, 10 items, weights 1 and 3): need a worker, an item and weights of 0 or more",
		func() { _, _ = WeightedShare(0, 10, 1, 3) })
	assert.PanicsWithValue(t, "bench: WeightedShare(1 workers, 10 items, weights -1 and 3): need a worker, an item and weights of 0 or more",
		func() { _, _ = WeightedShare(1, 10, -1, 3) })
}
