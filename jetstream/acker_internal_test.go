package jetstream

import (
	"sync"
	"testing"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"
)

// fakeMsg is a message that only says which one it is.
type fakeMsg struct {
	natsjs.Msg
	id int
}

// TestAckerProperties: readers queue messages from several goroutines, each holding a slot of a
// gate of the ring's capacity as the feed does; every message is acknowledged exactly once, its
// slot released after that, and stop leaves nothing queued.
func TestAckerProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		capacity := rapid.IntRange(1, 16).Draw(t, "capacity")
		readers := rapid.IntRange(1, 8).Draw(t, "readers")
		each := rapid.IntRange(0, 200).Draw(t, "messages per reader")

		slots := make(chan struct{}, capacity)
		var mu sync.Mutex
		acked := map[int]int{}
		released := 0
		a := newAcker(capacity, func(m natsjs.Msg) {
			mu.Lock()
			defer mu.Unlock()
			acked[m.(fakeMsg).id]++
		}, func(n int) {
			mu.Lock()
			released += n
			mu.Unlock()
			for range n {
				<-slots
			}
		})
		var wg sync.WaitGroup
		for r := range readers {
			wg.Go(func() {
				for i := range each {
					slots <- struct{}{}
					a.add(fakeMsg{id: r*each + i})
				}
			})
		}
		wg.Wait()
		a.stop()

		assert.Equal(t, readers*each, len(acked), "every message acknowledged")
		for id, n := range acked {
			assert.Equal(t, 1, n, "message %d acknowledged once", id)
		}
		assert.Equal(t, readers*each, released, "every slot released")
		assert.Empty(t, slots, "no slot held")
	})
}
