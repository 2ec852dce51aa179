package jetstream_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// brokenError is an error whose Error method panics on a nil receiver: a typed nil returned as
// an error is the usual way to get one.
type brokenError struct{ msg string }

func (e *brokenError) Error() string { return e.msg }

// userFuncCase publishes, on key k0, a message "bad" and then two good ones, runs them through a
// feed with decode and work, and returns the dead letter of "bad", once both good ones were
// processed, and the feed's stats.
func userFuncCase(t *testing.T, cfg natsjs.ConsumerConfig, decode func(natsjs.Msg) (string, event, error),
	work func(context.Context, event) (event, error), opts ...jetstream.Option,
) (*natsMsg, jetstream.Stats) {
	t.Helper()
	s := startServer(t, t.TempDir(), -1)
	nc, js := connect(t, s.ClientURL())
	setup(t, js, cfg)
	dead := deadLetters(t, nc)
	for _, data := range []string{"bad", "1", "2"} {
		_, err := js.Publish(t.Context(), "events.k0", []byte(data))
		require.NoError(t, err)
	}
	processed := make(chan event, 8)
	r := group.New[string](func(ctx context.Context, e event) (event, error) {
		e, err := work(ctx, e)
		if err == nil {
			processed <- e
		}
		return e, err
	}, group.Workers(2))
	defer r.Shutdown(context.Background())
	opts = append([]jetstream.Option{jetstream.DeadLetter(dlqSubject),
		jetstream.Backoff(jetstream.Exponential(10*time.Millisecond, 10*time.Millisecond))}, opts...)
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decode, opts...)
	require.NoError(t, err)
	stop := run(t, f)
	m := receiveWithin(t, dead, 15*time.Second, "the dead letter")
	assert.Equal(t, 1, receiveWithin(t, processed, 15*time.Second, "the first good message").N)
	assert.Equal(t, 2, receiveWithin(t, processed, 15*time.Second, "the second good message").N)
	require.NoError(t, stop())
	return &natsMsg{data: string(m.Data), reason: m.Header.Get(jetstream.HeaderReason),
		err: m.Header.Get(jetstream.HeaderError)}, f.Stats()
}

type natsMsg struct{ data, reason, err string }

// decodeBad decodes like decodeEvent, but calls bad on the message "bad".
func decodeBad(bad func() error) func(natsjs.Msg) (string, event, error) {
	return func(m natsjs.Msg) (string, event, error) {
		if string(m.Data()) == "bad" {
			return "k0", event{}, bad()
		}
		return decodeEvent(m)
	}
}

func passThrough(_ context.Context, e event) (event, error) { return e, nil }

// TestDecodeGoexitFailsOnlyItsMessage: a decode func that calls runtime.Goexit makes its message
// poison, and the feed goes on with the next ones.
func TestDecodeGoexitFailsOnlyItsMessage(t *testing.T) {
	m, st := userFuncCase(t, natsjs.ConsumerConfig{}, decodeBad(func() error { runtime.Goexit(); return nil }), passThrough)
	assert.Equal(t, "bad", m.data)
	assert.Equal(t, jetstream.ReasonDecode, m.reason)
	assert.Contains(t, m.err, "Goexit")
	assert.Equal(t, int64(1), st.Undecodable)
	assert.Equal(t, int64(2), st.Processed)
}

// TestDecodeErrorWithPanickingErrorMethod: a decode error whose Error method panics (a typed
// nil) does not crash the process: its message is dead-lettered with an error that says so.
func TestDecodeErrorWithPanickingErrorMethod(t *testing.T) {
	m, st := userFuncCase(t, natsjs.ConsumerConfig{}, decodeBad(func() error {
		var e *brokenError
		return e
	}), passThrough)
	assert.Equal(t, jetstream.ReasonDecode, m.reason)
	assert.Contains(t, m.err, "*jetstream_test.brokenError")
	assert.Contains(t, m.err, "Error method panicked")
	assert.Equal(t, int64(1), st.Undecodable)
	assert.Equal(t, int64(2), st.Processed)
}

// TestWorkErrorWithPanickingErrorMethod: the same error from the work func, on the message's
// last delivery, dead-letters the message and the feed goes on. (The router wraps a work func's
// error with its group's key, and fmt prints a nil receiver as "<nil>": no panic reaches the
// feed, but it must not crash if one did.)
func TestWorkErrorWithPanickingErrorMethod(t *testing.T) {
	decode := decodeBad(func() error { return nil }) // "bad" decodes as event 0 of k0
	m, st := userFuncCase(t, natsjs.ConsumerConfig{MaxDeliver: 1}, decode, func(_ context.Context, e event) (event, error) {
		if e.N == 0 {
			var err *brokenError
			return e, err
		}
		return e, nil
	})
	assert.Equal(t, "bad", m.data)
	assert.Equal(t, jetstream.ReasonMaxDeliver, m.reason)
	assert.Contains(t, m.err, "group k0")
	assert.Equal(t, int64(1), st.DeadLettered)
	assert.Equal(t, int64(2), st.Processed)
}

// TestBackoffPanicDoesNotCrash: a Backoff policy that panics does not crash the process: the
// panic is reported, the message retried after the default delay and then processed.
func TestBackoffPanicDoesNotCrash(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{MaxDeliver: 3})
	_, err := js.Publish(t.Context(), "events.k0", []byte("0"))
	require.NoError(t, err)
	done := make(chan event, 1)
	r := group.New[string](func(_ context.Context, e event) (event, error) {
		if e.Deliveries == 1 {
			return e, errFlaky
		}
		done <- e
		return e, nil
	}, group.Workers(2))
	defer r.Shutdown(context.Background())
	reported := make(chan error, 16)
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject),
		jetstream.Backoff(func(int) time.Duration { panic("no policy") }),
		jetstream.OnError(func(err error) {
			select {
			case reported <- err:
			default:
			}
		}))
	require.NoError(t, err)
	stop := run(t, f)
	err = receiveWithin(t, reported, 15*time.Second, "the policy's panic")
	var pe *group.PanicError
	assert.True(t, errors.As(err, &pe), "reported %v carries the panic", err)
	e := receiveWithin(t, done, 15*time.Second, "the second delivery")
	assert.Equal(t, uint64(2), e.Deliveries)
	require.NoError(t, stop())
	assert.Equal(t, int64(1), f.Stats().Retried)
	assert.Equal(t, int64(1), f.Stats().Processed)
}
