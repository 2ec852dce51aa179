package bench_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stagecoach-go/stagecoach/bench"
)

// A Sink checks one stream: here, a hand-rolled loop that calls the stages in order passes, and
// one that drops an item does not.
func ExampleSink() {
	w := bench.StageCount(3, true)
	good, bad := w.NewSink(0), w.NewSink(0)
	for it := range w.Source(0) {
		out, err := w.Apply(context.Background(), it)
		good.Add(out, err)
		if it.ID != 7 {
			bad.Add(out, err)
		}
	}
	fmt.Println(good.Err())
	fmt.Println(bad.Err())
	// Output:
	// <nil>
	// stream 0: got 4999 results, want 5000
}

// A W4 stage waits on a Delay, a stand-in for a device that answers after a fixed wait without
// using the CPU: no wait is shorter than the nominal one.
func ExampleDelay() {
	d := bench.NewDelay(bench.IOWait)
	defer d.Stop()
	fmt.Println(d.Typical(5) >= bench.IOWait)
	// Output: true
}

// Each design takes the concurrency of the I/O-bound workload in its own way; here, group with
// 8 workers over 32 items that wait about 100 us in each of 4 stages, every result checked.
func ExampleGroupN() {
	d := bench.NewDelay(bench.IOWait)
	defer d.Stop()
	w := bench.W4(true, d)
	w.Items = 32
	fmt.Println(bench.GroupN(w, 8))
	// Output: <nil>
}

// RoundTrips runs a request/response workload on a server: here 4 clients of one group.Router,
// each with its own group, 50 round trips each, every result checked.
func ExampleRoundTrips() {
	w := bench.RequestResponse(4, true)
	srv := bench.GroupService(w)
	trips, err := bench.RoundTrips(srv, w)
	fmt.Println(len(trips.Latencies), err, srv.Close())
	// Output: 200 <nil> <nil>
}

// Order is a user's own item type, with a slice field that DeepEqual compares too.
type Order struct {
	ID, Qty, Cents, Total int
	Tags                  []string
}

// orderStages are a user's stages: each changes the order, and the next depends on what the one
// before did.
var orderStages = []func(context.Context, Order) (Order, error){
	func(_ context.Context, o Order) (Order, error) { o.Total = o.Qty * o.Cents; return o, nil },
	func(_ context.Context, o Order) (Order, error) {
		if o.Qty >= 10 {
			o.Total = o.Total * 9 / 10
			o.Tags = append(slices.Clip(o.Tags), "bulk")
		}
		return o, nil
	},
	func(_ context.Context, o Order) (Order, error) {
		o.Total += o.Total / 5
		o.Tags = append(slices.Clip(o.Tags), "taxed")
		return o, nil
	},
}

// CheckDesigns runs every design of Compare once on the caller's own items and stages and checks
// each result against direct calls, as Compare does before and while it times them.
func ExampleCheckDesigns() {
	orders := []Order{{ID: 1, Qty: 2, Cents: 250}, {ID: 2, Qty: 12, Cents: 100}, {ID: 3, Qty: 1, Cents: 5}}
	out, err := bench.CheckDesigns(orders, orderStages, bench.CompareGroups(2))
	fmt.Println(err)
	for _, o := range out {
		fmt.Println(o.ID, o.Total, o.Tags)
	}
	// Output:
	// <nil>
	// 1 600 [taxed]
	// 2 1296 [bulk taxed]
	// 3 6 [taxed]
}

// A stage whose result depends on how often it has been called gives a design results that
// differ from the direct calls': the check names the design and the item.
func ExampleCheckDesigns_nondeterministic() {
	var calls atomic.Int64
	stamp := func(_ context.Context, o Order) (Order, error) {
		o.Total = int(calls.Add(1))
		return o, nil
	}
	orders := []Order{{ID: 1}, {ID: 2}, {ID: 3}}
	_, err := bench.CheckDesigns(orders, []func(context.Context, Order) (Order, error){stamp}, bench.CompareOnly("pipe", "group"))
	var ce *bench.CompareError
	if errors.As(err, &ce) {
		fmt.Println(ce.Design, ce.Item)
	}
	// Output: pipe 0
}

// In a _test.go file, Compare runs one sub-benchmark a design on the caller's own stages: here
// go test -bench Orders would run BenchmarkOrders/direct, BenchmarkOrders/hand and so on.
func ExampleCompare() {
	benchmarkOrders := func(b *testing.B) {
		orders := make([]Order, 10_000)
		for i := range orders {
			orders[i] = Order{ID: i, Qty: i%15 + 1, Cents: 250}
		}
		bench.Compare(b, orders, orderStages, bench.CompareGroups(4))
	}
	_ = benchmarkOrders
	fmt.Println(bench.CompareDesigns())
	// Output: [direct hand pipe pool pool-slice group]
}
