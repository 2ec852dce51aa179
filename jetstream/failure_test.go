package jetstream_test

import (
	"context"
	"errors"
	"testing"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// TestOnErrorPanicEndsRun: a panic in the OnError func does not crash the process; it ends Run
// with the panic as its error.
func TestOnErrorPanicEndsRun(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	publish(t, js, 1, 1) // key k0, which someone else holds: the feed reports it

	r := group.New[string](newSink(1).record)
	defer r.Shutdown(context.Background())
	other, err := r.Open(t.Context(), "k0")
	require.NoError(t, err)
	defer other.Close()
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject),
		jetstream.OnError(func(error) { panic("reporting failed") }))
	require.NoError(t, err)
	err = f.Run(context.Background())
	var pe *group.PanicError
	require.True(t, errors.As(err, &pe), "Run's error %v is the panic", err)
	assert.Equal(t, "reporting failed", pe.Value)
}

// TestRouterClosedEndsRun: closing the router under a running feed ends Run with
// ErrRouterClosed once a message meets the closed router, and what the feed held is settled.
func TestRouterClosedEndsRun(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	publish(t, js, 200, 10)

	entered := make(chan struct{}, 200)
	gate := make(chan struct{})
	r := group.New[string](func(_ context.Context, e event) (event, error) {
		entered <- struct{}{}
		<-gate
		return e, nil
	}, group.Workers(2))
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- f.Run(context.Background()) }()
	receive(t, entered)
	r.Close()
	close(gate)
	_, err = js.Publish(t.Context(), "events.late", []byte("0")) // a new key: the router refuses it
	require.NoError(t, err)
	err = receive(t, done)
	assert.True(t, errors.Is(err, group.ErrRouterClosed), "Run's error %v wraps ErrRouterClosed", err)
	r.Wait()
	st := f.Stats()
	assert.Equal(t, int64(0), st.Held)
	assert.Equal(t, st.Received, st.Processed+st.HandedBack+st.Retried, "every message settled")
}

// TestConsumerDeletedEndsRun: deleting the consumer under a running feed (one that has pulled
// already) ends Run with ErrConsumeStopped.
func TestConsumerDeletedEndsRun(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	publish(t, js, 1, 1)
	snk := newSink(1)
	r := group.New[string](snk.record)
	defer r.Shutdown(context.Background())
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- f.Run(context.Background()) }()
	receive(t, snk.full)
	require.NoError(t, js.DeleteConsumer(t.Context(), stream, consumerName))
	err = receive(t, done)
	assert.True(t, errors.Is(err, jetstream.ErrConsumeStopped), "Run's error %v wraps ErrConsumeStopped", err)
}
