package prometheus_test

import (
	"context"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/pool"
	stageprom "github.com/stagecoach-go/stagecoach/prometheus"
)

// TestPropertyStageCounts checks, over random items run through the test machine on random
// workers, that every stage's items counter and duration histogram count exactly the stages the
// items ran, by outcome.
func TestPropertyStageCounts(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		items := rapid.SliceOf(rapid.OneOf(rapid.IntRange(0, 100), rapid.IntRange(-5, -1), rapid.Just(-100))).Draw(rt, "items")
		workers := rapid.IntRange(1, 4).Draw(rt, "workers")
		reg, c := newCollector(t)
		om := stageprom.NewMachine[State, int](c, "orders")
		b := builder()
		require.NoError(rt, om.Attach(b))
		m, err := b.Build(Parse)
		require.NoError(rt, err)
		for range pool.Run(context.Background(), slices.Values(items), m.Do, pool.Workers(workers)) {
		}

		want := map[[2]string]float64{} // the model: the stages each item runs
		for _, v := range items {
			want[[2]string{"Parse", "ok"}]++
			switch {
			case v == -100:
				want[[2]string{"Check", "panic"}]++
			case v < 0:
				want[[2]string{"Check", "error"}]++
			default:
				want[[2]string{"Check", "ok"}]++
				want[[2]string{"Store", "ok"}]++
			}
		}
		counts := histogramCounts(t, reg)
		for _, st := range []string{"Parse", "Check", "Store"} {
			var total float64
			for _, out := range []string{"ok", "error", "panic"} {
				mfs, err := reg.Gather()
				require.NoError(rt, err)
				got := sample(mfs, st, out)
				if got != want[[2]string{st, out}] {
					rt.Fatalf("stagecoach_stage_items_total{state=%q,outcome=%q} = %v, want %v", st, out, got, want[[2]string{st, out}])
				}
				total += got
			}
			if float64(counts[st]) != total {
				rt.Fatalf("histogram count of %s = %d, want %v", st, counts[st], total)
			}
		}
		problems, err := testutil.GatherAndLint(reg)
		require.NoError(rt, err)
		require.Empty(rt, problems)
	})
}

// sample returns stagecoach_stage_items_total of state and outcome; 0 when it has no series.
func sample(mfs []*dto.MetricFamily, state, outcome string) float64 {
	for _, mf := range mfs {
		if mf.GetName() != "stagecoach_stage_items_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["state"] == state && l["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
