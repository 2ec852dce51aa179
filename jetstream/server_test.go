package jetstream_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/jetstream"
)

// The streams of the tests: events on "events.<key>", dead letters on "deadletter.>".
const (
	stream       = "EVENTS"
	consumerName = "workers"
	dlqStream    = "DLQ"
	dlqSubject   = "deadletter.events"
)

// startServer starts an embedded server with JetStream on, storing in dir, on 127.0.0.1:port (a
// free port if port is -1), and shuts it down at the end of the test.
func startServer(t testing.TB, dir string, port int) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir,
		NoLog: true, NoSigs: true, DisableJetStreamBanner: true,
	})
	require.NoError(t, err)
	s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second), "server ready")
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// connect connects to url, reconnecting quickly and forever, and closes the connection at the
// end of the test.
func connect(t testing.TB, url string) (*nats.Conn, natsjs.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond),
		nats.ReconnectJitter(0, 0), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {
			// The client's asynchronous errors (a broken pipe as the server stops) are expected
			// here; the default handler would print them.
		}))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	return nc, js
}

// setup creates the events stream, the dead-letter stream and the durable consumer.
func setup(t testing.TB, js natsjs.JetStream, cfg natsjs.ConsumerConfig) {
	t.Helper()
	ctx := t.Context()
	_, err := js.CreateStream(ctx, natsjs.StreamConfig{Name: stream, Subjects: []string{"events.>"}})
	require.NoError(t, err)
	_, err = js.CreateStream(ctx, natsjs.StreamConfig{Name: dlqStream, Subjects: []string{"deadletter.>"}})
	require.NoError(t, err)
	cfg.Durable = consumerName
	cfg.AckPolicy = natsjs.AckExplicitPolicy
	_, err = js.CreateOrUpdateConsumer(ctx, stream, cfg)
	require.NoError(t, err)
}

// publish publishes n events round-robin over keys: event i has subject "events.k<i%keys>" and
// data i.
func publish(t testing.TB, js natsjs.JetStream, n, keys int) {
	t.Helper()
	const batch = 1000 // below the client's bound on unacknowledged asynchronous publications
	for i := range n {
		_, err := js.PublishAsync(fmt.Sprintf("events.k%d", i%keys), []byte(strconv.Itoa(i)))
		require.NoError(t, err)
		if (i+1)%batch == 0 || i == n-1 {
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Minute):
				t.Fatal("publishing timed out")
			}
		}
	}
}

// event is the tests' item: what the message said and where it came from.
type event struct {
	Key        string
	N          int
	Seq        uint64
	Deliveries uint64
}

// decodeEvent keys events by their subject's last token and reads the number in their data.
func decodeEvent(m natsjs.Msg) (string, event, error) {
	meta, err := m.Metadata()
	if err != nil {
		return "", event{}, err
	}
	n, err := strconv.Atoi(string(m.Data()))
	if err != nil {
		return "", event{}, fmt.Errorf("event data %q: %w", m.Data(), err)
	}
	key := jetstream.Token(m.Subject(), -1)
	return key, event{Key: key, N: n, Seq: meta.Sequence.Stream, Deliveries: meta.NumDelivered}, nil
}

// run starts f.Run in a goroutine and returns a func that ends it and returns Run's error. The
// run is ended at the end of the test if the test did not.
func run(t testing.TB, f interface{ Run(context.Context) error }) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	var err error
	stopped := false
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// consumerInfo returns the consumer's state as the server has it.
func consumerInfo(t testing.TB, js natsjs.JetStream) *natsjs.ConsumerInfo {
	t.Helper()
	c, err := js.Consumer(t.Context(), stream, consumerName)
	require.NoError(t, err)
	info, err := c.Info(t.Context())
	require.NoError(t, err)
	return info
}

// syncedConsumerInfo returns the consumer's state once the server has processed the
// acknowledgements sent before: it does so on its own goroutine, after the client's publication.
// It publishes one more message, takes it from the consumer and acknowledges it with DoubleAck,
// whose reply comes after the acknowledgements queued before it.
func syncedConsumerInfo(t *testing.T, js natsjs.JetStream) *natsjs.ConsumerInfo {
	t.Helper()
	_, err := js.Publish(t.Context(), "events.sentinel", []byte("sentinel"))
	require.NoError(t, err)
	c, err := js.Consumer(t.Context(), stream, consumerName)
	require.NoError(t, err)
	m, err := c.Next(natsjs.FetchMaxWait(30 * time.Second))
	require.NoError(t, err)
	require.Equal(t, "sentinel", string(m.Data()), "nothing else left to deliver")
	require.NoError(t, m.DoubleAck(t.Context()))
	return consumerInfo(t, js)
}
