package jetstream_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// countingSink records stream sequences and signals when it has seen at, and then all, of them.
type countingSink struct {
	mu        sync.Mutex
	seen      map[uint64]int
	at, all   int
	reachedAt chan struct{}
	reached   chan struct{}
}

func newCountingSink(at, all int) *countingSink {
	return &countingSink{seen: map[uint64]int{}, at: at, all: all,
		reachedAt: make(chan struct{}), reached: make(chan struct{})}
}

func (s *countingSink) record(_ context.Context, e event) (event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[e.Seq]++
	switch len(s.seen) {
	case s.at:
		if s.seen[e.Seq] == 1 {
			close(s.reachedAt)
		}
	case s.all:
		if s.seen[e.Seq] == 1 {
			close(s.reached)
		}
	}
	return e, nil
}

// TestServerRestartMidRun is acceptance test 2: the embedded server is stopped and started again
// on the same store and port in the middle of a run; the feed waits, resumes and finishes, and
// messages published after the restart are processed too. Acknowledgements lost in the restart
// are made up for by redelivery once AckWait expires.
func TestServerRestartMidRun(t *testing.T) {
	const before, after = 20_000, 5_000
	dir := t.TempDir()
	s := startServer(t, dir, -1)
	nc, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{AckWait: 2 * time.Second})
	publish(t, js, before, 64)

	snk := newCountingSink(before/4, before+after)
	r := group.New[string](snk.record, group.Workers(2))
	defer r.Shutdown(context.Background())
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent,
		jetstream.DeadLetter(dlqSubject), jetstream.MaxInFlight(128))
	require.NoError(t, err)
	stop := run(t, f)

	receive(t, snk.reachedAt)
	url, port := s.ClientURL(), s.Addr().(*net.TCPAddr).Port
	s.Shutdown()
	s.WaitForShutdown()
	s = startServer(t, dir, port)
	require.Equal(t, url, s.ClientURL(), "the same address")
	require.NoError(t, nc.FlushTimeout(time.Minute), "reconnected")
	publish(t, js, after, 64)

	receive(t, snk.reached)
	// Acknowledgements in flight when the server stopped can be lost with the connection (see
	// Delivery in the package documentation); their messages come back after AckWait, and the
	// feed must settle those too before it stops.
	require.Eventually(t, func() bool {
		info := consumerInfo(t, js)
		return info.NumAckPending == 0 && info.NumPending == 0
	}, 5*time.Second, 10*time.Millisecond, "every message acknowledged, redeliveries included")
	require.NoError(t, stop())
	snk.mu.Lock()
	assert.Len(t, snk.seen, before+after, "every message processed")
	snk.mu.Unlock()
	st := f.Stats()
	assert.Equal(t, st.Received, st.Processed)
	info := syncedConsumerInfo(t, js)
	assert.Equal(t, 0, info.NumAckPending)
	assert.Equal(t, uint64(0), info.NumPending)
	t.Logf("received %d, redelivered %d", st.Received, st.Redelivered)
}

// TestDisconnectTimeout: a server that stays away ends the run after DisconnectTimeout, with
// ErrDisconnected, and not before.
func TestDisconnectTimeout(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	r := group.New[string](newSink(1).record)
	defer r.Shutdown(context.Background())
	const timeout = 300 * time.Millisecond
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent,
		jetstream.DeadLetter(dlqSubject), jetstream.DisconnectTimeout(timeout))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- f.Run(context.Background()) }()

	lost := time.Now()
	s.Shutdown()
	err = receive(t, done)
	assert.True(t, errors.Is(err, jetstream.ErrDisconnected), "Run's error %v wraps ErrDisconnected", err)
	assert.GreaterOrEqual(t, time.Since(lost), timeout, "not before the timeout")
}
