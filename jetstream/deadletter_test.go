package jetstream_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

var errFlaky = errors.New("flaky downstream")

// deadLetters subscribes to the dead-letter subject and returns the messages as they come.
func deadLetters(t *testing.T, nc *nats.Conn) <-chan *nats.Msg {
	t.Helper()
	ch := make(chan *nats.Msg, 16)
	sub, err := nc.ChanSubscribe(dlqSubject, ch)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	require.NoError(t, nc.Flush())
	return ch
}

// receive returns the next message of ch, failing the test after a minute.
func receive[V any](t *testing.T, ch <-chan V) V {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatal("nothing received within a minute")
		panic("unreachable")
	}
}

// dlqCount returns how many messages the dead-letter stream holds.
func dlqCount(t *testing.T, js natsjs.JetStream) uint64 {
	t.Helper()
	s, err := js.Stream(t.Context(), dlqStream)
	require.NoError(t, err)
	info, err := s.Info(t.Context())
	require.NoError(t, err)
	return info.State.Msgs
}

// deadLetterCase runs one message, data "0" on events.k0, through a feed whose work func is work,
// and returns the dead letter it produced and the feed's stats once stopped.
func deadLetterCase(t *testing.T, cfg natsjs.ConsumerConfig, data string,
	work func(context.Context, event) (event, error),
) (*nats.Msg, jetstream.Stats, natsjs.JetStream) {
	t.Helper()
	return deadLetterCaseWith(t, cfg, data, work, func(*group.Router[string, event]) {})
}

// deadLetterCaseWith is deadLetterCase with prepare called on the router before the run.
func deadLetterCaseWith(t *testing.T, cfg natsjs.ConsumerConfig, data string,
	work func(context.Context, event) (event, error), prepare func(*group.Router[string, event]),
) (*nats.Msg, jetstream.Stats, natsjs.JetStream) {
	t.Helper()
	s := startServer(t, t.TempDir(), -1)
	nc, js := connect(t, s.ClientURL())
	setup(t, js, cfg)
	dead := deadLetters(t, nc)
	_, err := js.Publish(t.Context(), "events.k0", []byte(data))
	require.NoError(t, err)

	r := group.New[string](work, group.Workers(2))
	defer r.Shutdown(context.Background())
	prepare(r)
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent,
		jetstream.DeadLetter(dlqSubject), jetstream.Backoff(jetstream.Exponential(10*time.Millisecond, 10*time.Millisecond)))
	require.NoError(t, err)
	stop := run(t, f)
	m := receive(t, dead)
	require.NoError(t, stop())
	assert.Equal(t, uint64(1), dlqCount(t, js), "one dead letter stored")
	info := syncedConsumerInfo(t, js)
	assert.Equal(t, 0, info.NumAckPending, "nothing left pending")
	assert.Equal(t, uint64(0), info.NumPending, "nothing left to deliver")
	return m, f.Stats(), js
}

func TestMaxDeliverDeadLetters(t *testing.T) {
	var calls atomic.Int64
	m, st, _ := deadLetterCase(t, natsjs.ConsumerConfig{MaxDeliver: 3}, "0",
		func(_ context.Context, e event) (event, error) { calls.Add(1); return e, errFlaky })
	assert.Equal(t, jetstream.ReasonMaxDeliver, m.Header.Get(jetstream.HeaderReason))
	assert.Equal(t, "3", m.Header.Get(jetstream.HeaderDeliveries))
	assert.Equal(t, "1", m.Header.Get(jetstream.HeaderSequence))
	assert.Equal(t, "events.k0", m.Header.Get(jetstream.HeaderSubject))
	assert.Equal(t, stream, m.Header.Get(jetstream.HeaderStream))
	assert.Equal(t, consumerName, m.Header.Get(jetstream.HeaderConsumer))
	assert.Contains(t, m.Header.Get(jetstream.HeaderError), errFlaky.Error())
	assert.Equal(t, "0", string(m.Data))
	assert.Equal(t, int64(3), calls.Load(), "work ran on each delivery")
	assert.Equal(t, int64(3), st.Failed)
	assert.Equal(t, int64(2), st.Retried)
	assert.Equal(t, int64(2), st.Redelivered)
	assert.Equal(t, int64(1), st.DeadLettered)
}

func TestPermanentErrorDeadLettersAtOnce(t *testing.T) {
	var calls atomic.Int64
	m, st, _ := deadLetterCase(t, natsjs.ConsumerConfig{MaxDeliver: 5}, "0",
		func(_ context.Context, e event) (event, error) {
			calls.Add(1)
			return e, jetstream.Permanent(errFlaky)
		})
	assert.Equal(t, jetstream.ReasonPermanent, m.Header.Get(jetstream.HeaderReason))
	assert.Equal(t, "1", m.Header.Get(jetstream.HeaderDeliveries))
	assert.Contains(t, m.Header.Get(jetstream.HeaderError), errFlaky.Error())
	assert.Equal(t, int64(1), calls.Load(), "never retried")
	assert.Equal(t, int64(0), st.Retried)
	assert.Equal(t, int64(1), st.DeadLettered)
}

func TestPanicDeadLettersAtOnce(t *testing.T) {
	var calls atomic.Int64
	m, st, _ := deadLetterCase(t, natsjs.ConsumerConfig{MaxDeliver: 5}, "0",
		func(_ context.Context, e event) (event, error) { calls.Add(1); panic("boom") })
	assert.Equal(t, jetstream.ReasonPanic, m.Header.Get(jetstream.HeaderReason))
	assert.Contains(t, m.Header.Get(jetstream.HeaderError), "boom")
	assert.Contains(t, m.Header.Get(jetstream.HeaderError), "deadletter_test.go", "the stack is in the error")
	assert.Equal(t, int64(1), calls.Load(), "never retried")
	assert.Equal(t, int64(1), st.DeadLettered)
}

func TestPoisonMessageDeadLettersOnce(t *testing.T) {
	var calls atomic.Int64
	m, st, _ := deadLetterCase(t, natsjs.ConsumerConfig{}, "not a number",
		func(_ context.Context, e event) (event, error) { calls.Add(1); return e, nil })
	assert.Equal(t, jetstream.ReasonDecode, m.Header.Get(jetstream.HeaderReason))
	assert.Contains(t, m.Header.Get(jetstream.HeaderError), `event data "not a number"`)
	assert.Equal(t, "1", m.Header.Get(jetstream.HeaderDeliveries))
	assert.Equal(t, "not a number", string(m.Data))
	assert.Equal(t, int64(0), calls.Load(), "a poison message never reaches the work func")
	assert.Equal(t, int64(1), st.Undecodable)
	assert.Equal(t, int64(1), st.DeadLettered)
	assert.Equal(t, int64(1), st.Received, "terminated: never delivered again")
}

func TestRetryWaitsTheBackoffDelay(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{MaxDeliver: 5})
	_, err := js.Publish(t.Context(), "events.k0", []byte("0"))
	require.NoError(t, err)

	// The first two deliveries fail; each delivery's arrival time is recorded.
	arrivals := make(chan time.Time, 8)
	done := make(chan event, 1)
	r := group.New[string](func(_ context.Context, e event) (event, error) {
		arrivals <- time.Now()
		if e.Deliveries < 3 {
			return e, errFlaky
		}
		done <- e
		return e, nil
	}, group.Workers(2))
	defer r.Shutdown(context.Background())
	const base = 150 * time.Millisecond
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent,
		jetstream.DeadLetter(dlqSubject), jetstream.Backoff(jetstream.Exponential(base, time.Second)))
	require.NoError(t, err)
	stop := run(t, f)
	e := receive(t, done)
	require.NoError(t, stop())

	assert.Equal(t, uint64(3), e.Deliveries)
	require.Len(t, arrivals, 3)
	first, second, third := <-arrivals, <-arrivals, <-arrivals
	assert.GreaterOrEqual(t, second.Sub(first), base, "first retry waits the base delay")
	assert.GreaterOrEqual(t, third.Sub(second), 2*base, "second retry waits twice as long")
	st := f.Stats()
	assert.Equal(t, int64(2), st.Retried)
	assert.Equal(t, int64(2), st.Redelivered)
	assert.Equal(t, int64(1), st.Processed)
	assert.Equal(t, int64(0), st.DeadLettered)
}
