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
