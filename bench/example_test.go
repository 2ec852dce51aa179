package bench_test

import (
	"context"
	"fmt"

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
