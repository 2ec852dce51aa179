package pipe_test

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/pipe"
)

// Batches concatenate to the input, and none exceeds the size.
func TestBatchConcatenatesToInput(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := rapid.SliceOfN(rapid.Int(), 0, 300).Draw(t, "in")
		size := rapid.IntRange(1, 40).Draw(t, "size")
		p := pipe.New(context.Background())
		batches, err := pipe.Collect(p, pipe.Batch(p, pipe.FromSlice(p, in), size, time.Hour))
		require.NoError(t, err)
		var all []int
		for i, b := range batches {
			assert.LessOrEqual(t, len(b), size)
			assert.NotEmpty(t, b)
			if i < len(batches)-1 {
				assert.Len(t, b, size, "only the last batch is partial when the input comes at once")
			}
			all = append(all, b...)
		}
		assert.Equal(t, slices.Concat([]int(nil), in), append([]int(nil), all...))
	})
}

// A partial batch is flushed once maxWait has passed since its first item, in virtual time.
func TestBatchFlushesAfterMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pipe.New(t.Context())
		in := make(chan int)
		out := pipe.Batch(p, in, 10, time.Second)
		start := time.Now()
		in <- 1
		in <- 2
		time.Sleep(999 * time.Millisecond) // virtual time: advances when every goroutine is blocked
		synctest.Wait()
		select {
		case b := <-out:
			t.Fatalf("batch %v flushed after %v, before maxWait", b, time.Since(start))
		default:
		}
		in <- 3
		b := <-out
		assert.Equal(t, []int{1, 2, 3}, b)
		assert.Equal(t, time.Second, time.Since(start), "flushed exactly maxWait after the first item")
		in <- 4
		close(in)
		assert.Equal(t, []int{4}, <-out, "the last partial batch when the input closes")
		_, ok := <-out
		assert.False(t, ok)
		require.NoError(t, p.Wait())
	})
}

func TestMergeAndTee(t *testing.T) {
	p := pipe.New(context.Background())
	a := pipe.From(p, 1, 2, 3)
	b := pipe.From(p, 10, 20)
	copies := pipe.Tee(p, pipe.Merge(p, a, b), 2)
	sums := make(chan int, 2)
	for _, c := range copies {
		go func() {
			s := 0
			for v := range c {
				s += v
			}
			sums <- s
		}()
	}
	assert.Equal(t, 36, <-sums)
	assert.Equal(t, 36, <-sums)
	require.NoError(t, p.Wait())
}
