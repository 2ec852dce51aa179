package jetstream_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// maxDeliveries subscribes to the server's advisory that a message of the test consumer went
// past MaxDeliver and returns the stream sequences it names, as they come.
func maxDeliveries(t *testing.T, nc *nats.Conn) <-chan uint64 {
	t.Helper()
	seqs := make(chan uint64, 16)
	sub, err := nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."+stream+"."+consumerName, func(m *nats.Msg) {
		var a struct {
			StreamSeq uint64 `json:"stream_seq"`
		}
		if json.Unmarshal(m.Data, &a) == nil {
			seqs <- a.StreamSeq
		}
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	require.NoError(t, nc.Flush())
	return seqs
}

// receiveWithin returns the next value of ch, failing the test after d.
func receiveWithin[V any](t *testing.T, ch <-chan V, d time.Duration, what string) V {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s: nothing within %v", what, d)
		panic("unreachable")
	}
}

// TestServerDropsANakOnTheLastDelivery records what the server does with a message negatively
// acknowledged (with or without a delay) on its MaxDeliver-th delivery: it does not deliver it
// again (when the next pull comes), sends the MAX_DELIVERIES advisory for it, and counts it
// neither pending nor awaiting an acknowledgement. Nothing a client sends makes a delivery not count, so the feed must never hand
// a message back on its last delivery.
func TestServerDropsANakOnTheLastDelivery(t *testing.T) {
	for _, delay := range []time.Duration{0, time.Millisecond} {
		t.Run(delay.String(), func(t *testing.T) {
			s := startServer(t, t.TempDir(), -1)
			nc, js := connect(t, s.ClientURL())
			setup(t, js, natsjs.ConsumerConfig{MaxDeliver: 2})
			exceeded := maxDeliveries(t, nc)
			_, err := js.Publish(t.Context(), "events.k0", []byte("0"))
			require.NoError(t, err)
			c, err := js.Consumer(t.Context(), stream, consumerName)
			require.NoError(t, err)
			for want := uint64(1); want <= 2; want++ {
				m, err := c.Next(natsjs.FetchMaxWait(10 * time.Second))
				require.NoError(t, err)
				meta, err := m.Metadata()
				require.NoError(t, err)
				require.Equal(t, want, meta.NumDelivered)
				if delay > 0 {
					require.NoError(t, m.NakWithDelay(delay))
				} else {
					require.NoError(t, m.Nak())
				}
			}
			// The server gives up on the message when a pull asks for more: this one.
			m, err := c.Next(natsjs.FetchMaxWait(time.Second)) // a bound, not a synchronization
			assert.ErrorIs(t, err, nats.ErrTimeout, "not delivered again: got %v", m)
			assert.Equal(t, uint64(1), receiveWithin(t, exceeded, 10*time.Second, "MAX_DELIVERIES advisory"))
			info := consumerInfo(t, js)
			assert.Equal(t, 0, info.NumAckPending, "not awaiting an acknowledgement")
			assert.Equal(t, uint64(0), info.NumPending, "not to be delivered")
		})
	}
}

// TestLastDeliveryDeadLetterFailureKeepsTheMessage: when the dead-letter publication fails on a
// message's last delivery, the feed keeps the message (unacknowledged, in progress) and publishes
// it again until the dead-letter stream stores it; it does not hand it back, which the server
// would take as the message's end.
func TestLastDeliveryDeadLetterFailureKeepsTheMessage(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	nc, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{MaxDeliver: 2})
	exceeded := maxDeliveries(t, nc)
	_, err := js.Publish(t.Context(), "events.k0", []byte("0"))
	require.NoError(t, err)

	r := group.New[string](func(_ context.Context, e event) (event, error) { return e, errFlaky }, group.Workers(2))
	defer r.Shutdown(context.Background())
	dlqFailed := make(chan error, 64)
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent,
		jetstream.DeadLetter(dlqSubject), jetstream.ProgressEvery(20*time.Millisecond),
		jetstream.Backoff(jetstream.Exponential(10*time.Millisecond, 10*time.Millisecond)),
		jetstream.OnError(func(err error) {
			if strings.Contains(err.Error(), "dead-lettering") {
				select {
				case dlqFailed <- err:
				default:
				}
			}
		}))
	require.NoError(t, err)
	require.NoError(t, js.DeleteStream(t.Context(), dlqStream)) // the dead-letter stream is gone
	stop := run(t, f)

	receiveWithin(t, dlqFailed, 30*time.Second, "a failed dead-letter publication")
	_, err = js.CreateStream(t.Context(), natsjs.StreamConfig{Name: dlqStream, Subjects: []string{"deadletter.>"}})
	require.NoError(t, err)
	dlq, err := js.CreateConsumer(t.Context(), dlqStream, natsjs.ConsumerConfig{AckPolicy: natsjs.AckNonePolicy})
	require.NoError(t, err)
	m, err := dlq.Next(natsjs.FetchMaxWait(15 * time.Second))
	select {
	case seq := <-exceeded:
		t.Errorf("the server gave up on message %d past MaxDeliver", seq)
	default:
	}
	require.NoError(t, err, "the dead letter is stored once its stream is back")
	assert.Equal(t, jetstream.ReasonMaxDeliver, m.Headers().Get(jetstream.HeaderReason))
	assert.Equal(t, "2", m.Headers().Get(jetstream.HeaderDeliveries))
	require.NoError(t, stop())
	st := f.Stats()
	assert.Equal(t, int64(1), st.DeadLettered)
	assert.Equal(t, int64(1), st.Retried, "retried after its first delivery only")
	assert.Equal(t, int64(0), st.Held)
	info := syncedConsumerInfo(t, js)
	assert.Equal(t, 0, info.NumAckPending, "terminated")
	assert.Equal(t, uint64(0), info.NumPending)
}

// TestLastDeliveryDrainTimeoutDeadLetters: items on their last delivery that a shutdown leaves
// unfinished are dead-lettered, not handed back (which the server would take as their end).
func TestLastDeliveryDrainTimeoutDeadLetters(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	nc, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{MaxDeliver: 1}) // every delivery is the last
	exceeded := maxDeliveries(t, nc)
	const n = 6
	publish(t, js, n, 2) // two keys: some items run, the others wait behind them

	entered := make(chan struct{}, n)
	r := group.New[string](func(ctx context.Context, e event) (event, error) {
		entered <- struct{}{}
		<-ctx.Done() // an item that only ends when told to
		return e, context.Cause(ctx)
	}, group.Workers(2))
	defer r.Shutdown(context.Background())
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent,
		jetstream.DeadLetter(dlqSubject), jetstream.DrainTimeout(100*time.Millisecond))
	require.NoError(t, err)
	stop := run(t, f)
	receive(t, entered)
	receive(t, entered)
	err = stop()
	assert.ErrorIs(t, err, jetstream.ErrDrainTimeout)
	st := f.Stats()
	assert.Equal(t, int64(n), st.Received)
	assert.Equal(t, int64(0), st.HandedBack, "nothing handed back on its last delivery")
	assert.Equal(t, int64(n), st.DeadLettered)
	assert.Equal(t, uint64(n), dlqCount(t, js))
	select {
	case seq := <-exceeded:
		t.Errorf("the server gave up on message %d past MaxDeliver", seq)
	default:
	}
	info := syncedConsumerInfo(t, js)
	assert.Equal(t, 0, info.NumAckPending)
	assert.Equal(t, uint64(0), info.NumPending)
}

// TestLastDeliveryKeyOpenElsewhereDeadLetters: a message the router refuses (its key is open
// elsewhere) on its last delivery is dead-lettered with the refusal, not retried (which the
// server would take as its end).
func TestLastDeliveryKeyOpenElsewhereDeadLetters(t *testing.T) {
	m, st, _ := deadLetterCaseWith(t, natsjs.ConsumerConfig{MaxDeliver: 1}, "0", passThrough,
		func(r *group.Router[string, event]) {
			other, err := r.Open(t.Context(), "k0")
			require.NoError(t, err)
			t.Cleanup(other.Close)
		})
	assert.Equal(t, jetstream.ReasonMaxDeliver, m.Header.Get(jetstream.HeaderReason))
	assert.Contains(t, m.Header.Get(jetstream.HeaderError), group.ErrKeyOpen.Error())
	assert.Equal(t, int64(0), st.Retried)
	assert.Equal(t, int64(1), st.DeadLettered)
}
