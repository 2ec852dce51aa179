package pipe_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stagecoach-go/stagecoach/pipe"
)

// BenchmarkBuffer measures four trivial Map stages at several channel buffer sizes: the
// measurement behind DefaultBuffer.
func BenchmarkBuffer(b *testing.B) {
	const items = 50_000
	inc := func(_ context.Context, v int) (int, error) { return v + 1, nil }
	for _, size := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("buffer=%d", size), func(b *testing.B) {
			for b.Loop() {
				p := pipe.New(context.Background())
				ch := pipe.Generate(p, func(_ context.Context, emit func(int) bool) error {
					for i := 0; i < items && emit(i); i++ {
					}
					return nil
				})
				for range 4 {
					ch = pipe.Map(p, ch, inc, pipe.Buffer(size))
				}
				if err := pipe.Drain(p, ch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*items), "ns/item")
		})
	}
}
