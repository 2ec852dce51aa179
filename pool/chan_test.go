package pool_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagecoach-go/stagecoach/pool"
)

func TestRunChanDeliversEveryItem(t *testing.T) {
	src := make(chan int)
	go func() {
		defer close(src)
		for i := range 1000 {
			src <- i
		}
	}()
	var got []int
	for r := range pool.RunChan(context.Background(), src, func(_ context.Context, v int) (int, error) { return 2 * v, nil }, pool.Ordered()) {
		assert.NoError(t, r.Err)
		got = append(got, r.Value)
	}
	want := ints(1000)
	for i := range want {
		want[i] *= 2
	}
	assert.Equal(t, want, got)
}

// A source channel that never delivers does not keep the run alive once the context ends.
func TestRunChanCancelWithSilentSource(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := pool.RunChan(ctx, make(chan int), identity)
	cancel()
	var got []pool.Result[int]
	for r := range out {
		got = append(got, r)
	}
	require.Len(t, got, 1, "only the cancellation comes out")
	assert.ErrorIs(t, got[0].Err, context.Canceled)
}

// A consumer that stops reading and cancels leaves nothing behind, without draining.
func TestRunChanAbandoned(t *testing.T) {
	defer goleak.VerifyNone(t)
	src := make(chan int)
	ctx, cancel := context.WithCancel(context.Background())
	out := pool.RunChan(ctx, src, identity)
	src <- 1
	<-out
	cancel()
}
