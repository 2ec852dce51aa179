package loadgen_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/examples/siem/loadgen"
)

// A constant schedule has ceil(rate·d) arrivals, 1/rate apart, from 0.
func TestScheduleConstant(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rate := rapid.Float64Range(1, 5000).Draw(t, "rate")
		d := time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(2*time.Second)).Draw(t, "d"))
		at := loadgen.Schedule(rate, d, loadgen.Constant, 0)
		n := math.Ceil(rate * d.Seconds())
		assert.InDelta(t, n, len(at), 1, "rounding of the last arrival")
		assert.Equal(t, time.Duration(0), at[0])
		for i, a := range at {
			assert.Less(t, a, d)
			assert.InDelta(t, float64(i)/rate*1e9, float64(a), 1)
		}
	})
}

// A Poisson schedule is sorted, within [0, d), the same for the same seed, and has about rate·d
// arrivals: within 5 standard deviations (sqrt of the mean) over many seeds.
func TestSchedulePoisson(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rate := rapid.Float64Range(100, 5000).Draw(t, "rate")
		d := time.Duration(rapid.Int64Range(int64(100*time.Millisecond), int64(2*time.Second)).Draw(t, "d"))
		seed := rapid.Uint64().Draw(t, "seed")
		at := loadgen.Schedule(rate, d, loadgen.Poisson, seed)
		assert.True(t, slices.IsSorted(at))
		assert.Equal(t, at, loadgen.Schedule(rate, d, loadgen.Poisson, seed))
		mean := rate * d.Seconds()
		assert.InDelta(t, mean, len(at), 5*math.Sqrt(mean))
		for _, a := range at {
			assert.GreaterOrEqual(t, a, time.Duration(0))
			assert.Less(t, a, d)
		}
	})
	assert.NotEqual(t, loadgen.Schedule(1000, time.Second, loadgen.Poisson, 1), loadgen.Schedule(1000, time.Second, loadgen.Poisson, 2))
}

func TestScheduleMisuse(t *testing.T) {
	assert.PanicsWithValue(t, "loadgen: Schedule at 0 a second for 1s: need a positive finite rate and duration",
		func() { loadgen.Schedule(0, time.Second, loadgen.Poisson, 1) })
	assert.PanicsWithValue(t, "loadgen: Schedule at 10 a second for 0s: need a positive finite rate and duration",
		func() { loadgen.Schedule(10, 0, loadgen.Poisson, 1) })
	assert.PanicsWithValue(t, `loadgen: Schedule: arrivals "uniform", want "poisson" or "constant"`,
		func() { loadgen.Schedule(10, time.Second, "uniform", 1) })
}
