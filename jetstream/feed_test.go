package jetstream_test

import (
	"context"
	"sync"
	"testing"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// sink records each processed event, keyed by stream sequence, and signals once it has all.
type sink struct {
	mu    sync.Mutex
	byKey map[string][]int
	seqs  map[uint64]int
	want  int
	full  chan struct{}
}

func newSink(want int) *sink {
	return &sink{byKey: map[string][]int{}, seqs: map[uint64]int{}, want: want, full: make(chan struct{})}
}

func (s *sink) record(_ context.Context, e event) (event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byKey[e.Key] = append(s.byKey[e.Key], e.N)
	s.seqs[e.Seq]++
	if len(s.seqs) == s.want {
		close(s.full)
	}
	return e, nil
}

func TestFeedProcessesEveryMessageOnceInKeyOrder(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	const n, keys = 2000, 16
	publish(t, js, n, keys)

	snk := newSink(n)
	r := group.New[string](snk.record, group.Workers(4))
	defer r.Shutdown(context.Background())
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent,
		jetstream.DeadLetter(dlqSubject), jetstream.MaxInFlight(64), jetstream.Window(4))
	require.NoError(t, err)
	stop := run(t, f)
	<-snk.full
	require.NoError(t, stop())

	for k, ns := range snk.byKey {
		assert.IsIncreasing(t, ns, "key %s in stream order", k)
	}
	st := f.Stats()
	assert.Equal(t, int64(n), st.Processed)
	assert.Equal(t, int64(n), st.Received)
	assert.Equal(t, int64(0), st.Held)
	info := consumerInfo(t, js)
	assert.Equal(t, 0, info.NumAckPending)
	assert.Equal(t, uint64(0), info.NumPending)
}
