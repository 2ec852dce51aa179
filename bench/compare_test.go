package bench_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/bench"
)

// wantOrder is what orderStages make of o, computed here without them.
func wantOrder(o Order) Order {
	o.Total = o.Qty * o.Cents
	if o.Qty >= 10 {
		o.Total = o.Qty * o.Cents * 9 / 10
		o.Tags = []string{"bulk"}
	}
	o.Total += o.Total / 5
	o.Tags = append(o.Tags, "taxed")
	return o
}

func drawOrders(t *rapid.T) []Order {
	n := rapid.IntRange(1, 300).Draw(t, "items")
	orders := make([]Order, n)
	for i := range orders {
		orders[i] = Order{ID: i, Qty: rapid.IntRange(1, 20).Draw(t, "qty"), Cents: rapid.IntRange(0, 1000).Draw(t, "cents")}
	}
	return orders
}

// Every design computes what direct calls compute, whatever the input size, the workers, the
// groups and the subset of designs; the results CheckDesigns returns are the direct calls'.
func TestStressCheckDesignsPassesCorrectDesigns(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		orders := drawOrders(t)
		designs := rapid.SliceOfNDistinct(rapid.SampledFrom(bench.CompareDesigns()), 1, 6, rapid.ID).Draw(t, "designs")
		out, err := bench.CheckDesigns(orders, orderStages,
			bench.CompareWorkers(rapid.IntRange(1, 8).Draw(t, "workers")),
			bench.CompareGroups(rapid.IntRange(1, 10).Draw(t, "groups")),
			bench.CompareOnly(designs...))
		require.NoError(t, err)
		require.Len(t, out, len(orders))
		for i, o := range orders {
			assert.Equal(t, wantOrder(o), out[i], "item %d", i)
		}
	})
}

// flaky returns a stage that does what ok does on every call but the second for item bad (the
// first is the reference's, the second the design's first run), where it does what wrong does.
func flaky(bad int, wrong func(Order) (Order, error)) func(context.Context, Order) (Order, error) {
	var mu sync.Mutex
	calls := map[int]int{}
	return func(_ context.Context, o Order) (Order, error) {
		mu.Lock()
		calls[o.ID]++
		n := calls[o.ID]
		mu.Unlock()
		if o.ID == bad && n == 2 {
			return wrong(o)
		}
		o.Total = o.ID * 3
		return o, nil
	}
}

// A design whose result for one item is wrong, whose stage fails or panics on one item, fails the
// check with an error that names the design and the item (and for a panic, the stack).
func TestCheckDesignsNamesTheDesignAndTheItem(t *testing.T) {
	boom := errors.New("boom")
	faults := map[string]func(Order) (Order, error){
		"wrong": func(o Order) (Order, error) { o.Total = -1; return o, nil },
		"error": func(o Order) (Order, error) { return o, boom },
		"panic": func(Order) (Order, error) { panic("kaput") },
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 200).Draw(t, "items")
		bad := rapid.IntRange(0, n-1).Draw(t, "bad item")
		design := rapid.SampledFrom(bench.CompareDesigns()).Draw(t, "design")
		fault := rapid.SampledFrom([]string{"wrong", "error", "panic"}).Draw(t, "fault")
		stage := rapid.IntRange(0, 2).Draw(t, "failing stage")
		orders := make([]Order, n)
		for i := range orders {
			orders[i].ID = i
		}
		stages := []func(context.Context, Order) (Order, error){orderStages[0], orderStages[1], orderStages[2]}
		stages[stage] = flaky(bad, faults[fault])
		_, err := bench.CheckDesigns(orders, stages, bench.CompareOnly(design), bench.CompareGroups(3))
		var ce *bench.CompareError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, design, ce.Design)
		assert.Equal(t, bad, ce.Item)
		assert.Contains(t, err.Error(), fmt.Sprintf("bench.Compare: %s: item %d: ", design, bad))
		switch fault {
		case "wrong":
			assert.ErrorContains(t, err, "Total:-1")
		case "error":
			assert.ErrorIs(t, err, boom)
			var sf *bench.StageFailure
			require.ErrorAs(t, err, &sf)
			assert.Equal(t, stage, sf.Stage)
		case "panic":
			var sp *bench.StagePanic
			require.ErrorAs(t, err, &sp)
			assert.Equal(t, "kaput", sp.Value)
			assert.Equal(t, stage, sp.Stage)
			assert.Contains(t, string(sp.Stack), "compare_test.go")
		}
	})
}

// A stage that fails on the direct calls themselves fails before any design runs.
func TestCheckDesignsReportsAFailingReference(t *testing.T) {
	boom := errors.New("boom")
	fail := func(_ context.Context, o Order) (Order, error) {
		if o.ID == 2 {
			return o, boom
		}
		return o, nil
	}
	_, err := bench.CheckDesigns([]Order{{ID: 0}, {ID: 1}, {ID: 2}}, []func(context.Context, Order) (Order, error){fail})
	assert.ErrorIs(t, err, boom)
	assert.EqualError(t, err, "bench.Compare: direct calls in order (the reference): item 2: stage 0: boom")
}

// Items with a field that differs from run to run compare equal by CompareEqual's func, and not
// by reflect.DeepEqual.
func TestCompareEqualReplacesDeepEqual(t *testing.T) {
	type stamped struct {
		ID  int
		Val int
		At  time.Time
	}
	stage := func(_ context.Context, s stamped) (stamped, error) {
		s.Val, s.At = s.ID*2, time.Now()
		return s, nil
	}
	in := []stamped{{ID: 1}, {ID: 2}, {ID: 3}}
	stages := []func(context.Context, stamped) (stamped, error){stage}
	_, err := bench.CheckDesigns(in, stages)
	require.Error(t, err, "the times differ")
	_, err = bench.CheckDesigns(in, stages, bench.CompareEqual(func(a, b stamped) bool { return a.ID == b.ID && a.Val == b.Val }))
	assert.NoError(t, err)
}

// Misuse panics with a message naming the bad argument.
func TestComparePanicsOnBadInput(t *testing.T) {
	one := orderStages[:1]
	orders := []Order{{ID: 1}}
	assert.PanicsWithValue(t, "bench: Compare: input is empty: need at least one item",
		func() { _, _ = bench.CheckDesigns(nil, one) })
	assert.PanicsWithValue(t, "bench: Compare: stages is empty: need at least one stage",
		func() { _, _ = bench.CheckDesigns(orders, nil) })
	assert.PanicsWithValue(t, "bench: Compare: stages[1] is nil",
		func() { _, _ = bench.CheckDesigns(orders, []func(context.Context, Order) (Order, error){one[0], nil}) })
	assert.PanicsWithValue(t, "bench: Compare: b is nil",
		func() { bench.Compare(nil, orders, one) })
	assert.PanicsWithValue(t, "bench: Compare: input is empty: need at least one item",
		func() { bench.Compare(&testing.B{}, []Order{}, one) })
	assert.PanicsWithValue(t, `bench: CompareOnly("fused"): no such design; the designs are [direct hand pipe pool pool-slice group]`,
		func() { bench.CompareOnly("pool", "fused") })
	assert.PanicsWithValue(t, "bench: CompareOnly(): name at least one design", func() { bench.CompareOnly() })
	assert.PanicsWithValue(t, "bench: CompareWorkers(0): need at least 1 worker", func() { bench.CompareWorkers(0) })
	assert.PanicsWithValue(t, "bench: CompareGroups(-1): need at least 1 group", func() { bench.CompareGroups(-1) })
	assert.PanicsWithValue(t, "bench: CompareEqual(nil): need an equality func", func() { bench.CompareEqual[Order](nil) })
	assert.PanicsWithValue(t, "bench: CheckDesigns: CompareEqual's func is a func(int, int) bool, but the items are of type bench_test.Order",
		func() {
			_, _ = bench.CheckDesigns(orders, one, bench.CompareEqual(func(a, b int) bool { return a == b }))
		})
	assert.PanicsWithValue(t, "bench: Compare: a zero CompareOption: make options with CompareWorkers, CompareGroups, CompareOnly or CompareEqual",
		func() { _, _ = bench.CheckDesigns(orders, one, bench.CompareOption{}) })
}

// The design names are the sub-benchmark names: stable, and free of characters go test rewrites.
func TestCompareDesignNamesAreStable(t *testing.T) {
	assert.Equal(t, []string{"direct", "hand", "pipe", "pool", "pool-slice", "group"}, bench.CompareDesigns())
	for _, n := range bench.CompareDesigns() {
		assert.False(t, strings.ContainsAny(n, " /#"), n)
	}
	names := bench.CompareDesigns()
	names[0] = "changed"
	assert.True(t, slices.Contains(bench.CompareDesigns(), "direct"), "a copy each call")
}
