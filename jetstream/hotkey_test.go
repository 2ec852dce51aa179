package jetstream_test

import (
	"context"
	"fmt"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// publishHot publishes hot messages on events.hot and then one on events.cold.
func publishHot(t testing.TB, js natsjs.JetStream, hot int) {
	t.Helper()
	for i := range hot {
		_, err := js.PublishAsync("events.hot", []byte(fmt.Sprint(i)))
		require.NoError(t, err)
	}
	_, err := js.PublishAsync("events.cold", []byte(fmt.Sprint(hot)))
	require.NoError(t, err)
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		t.Fatal("publishing timed out")
	}
}

// TestHotKeyDoesNotHoldUpOthers: a key 100 messages behind, whose items do not finish, does not
// stop another key's message from being delivered and processed: the cold key's message
// completes while the hot key has completed none.
func TestHotKeyDoesNotHoldUpOthers(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	const hot, maxInFlight = 100, 8
	publishHot(t, js, hot)

	release := make(chan struct{})
	cold := make(chan event, 1)
	var hotDone atomic.Int64
	r := group.New[string](func(_ context.Context, e event) (event, error) {
		if e.Key == "cold" {
			cold <- e
			return e, nil
		}
		<-release
		hotDone.Add(1)
		return e, nil
	}, group.Workers(4))
	defer r.Shutdown(context.Background())
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject),
		jetstream.MaxInFlight(maxInFlight),
		jetstream.Backoff(jetstream.Exponential(time.Minute, time.Minute))) // held back ones stay away
	require.NoError(t, err)
	stop := run(t, f)
	select {
	case e := <-cold:
		assert.Equal(t, hot, e.N)
		assert.Equal(t, int64(0), hotDone.Load(), "the cold key did not wait for the hot one")
	case <-time.After(time.Minute):
		st := f.Stats()
		var stacks strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		t.Errorf("the cold key's message was not processed in a minute: %+v\n%s", st, stacks.String())
	}
	st := f.Stats()
	// The hot key leaves a share of slots free (holding the rest), and the cold key holds its
	// message until the acknowledgement.
	const share = maxInFlight / 4
	assert.GreaterOrEqual(t, st.Held, int64(maxInFlight-share))
	assert.LessOrEqual(t, st.Held, int64(maxInFlight-share+1))
	assert.Positive(t, st.Deferred, "the hot key's messages beyond its share were deferred")
	close(release)
	require.NoError(t, stop())
	st = f.Stats()
	assert.Equal(t, int64(0), st.Held)
	assert.Equal(t, st.Received, st.Processed+st.Retried+st.HandedBack+st.DeadLettered+st.Deferred, "every message settled")
}

// BenchmarkHotKey measures how long a cold key's message waits behind a hot key 100 service
// times behind: the stream holds 100 messages of one key and then one of another, every item
// waits 1 ms, and each iteration consumes it through a new durable consumer with MaxInFlight 32.
// It reports the cold message's time from the start of Run to its completion, in service times:
// "behind-hot" through a consumer of the whole stream, "alone" through one filtered on the cold
// key (the cost of starting a run and of one item, the least the other can take).
func BenchmarkHotKey(b *testing.B) {
	s := startServer(b, b.TempDir(), -1)
	_, js := connect(b, s.ClientURL())
	_, err := js.CreateStream(b.Context(), natsjs.StreamConfig{Name: stream, Subjects: []string{"events.>"}})
	require.NoError(b, err)
	_, err = js.CreateStream(b.Context(), natsjs.StreamConfig{Name: dlqStream, Subjects: []string{"deadletter.>"}})
	require.NoError(b, err)
	const hot, service = 100, time.Millisecond
	publishHot(b, js, hot)
	cold := make(chan time.Time, 1)
	r := group.New[string](func(_ context.Context, e event) (event, error) {
		time.Sleep(service) // the service time under test, not synchronization
		if e.Key == "cold" {
			cold <- time.Now()
		}
		return e, nil
	}, group.Workers(8))
	defer r.Shutdown(context.Background())
	for _, filter := range []string{"", "events.cold"} {
		name := "behind-hot"
		if filter != "" {
			name = "alone"
		}
		b.Run(name, func(b *testing.B) {
			var total time.Duration
			i := 0
			for b.Loop() {
				durable := fmt.Sprintf("%s%d", name, i)
				i++
				_, err := js.CreateOrUpdateConsumer(b.Context(), stream,
					natsjs.ConsumerConfig{Durable: durable, AckPolicy: natsjs.AckExplicitPolicy, FilterSubject: filter})
				require.NoError(b, err)
				f, err := jetstream.New(b.Context(), js, stream, durable, r, decodeEvent, jetstream.DeadLetter(dlqSubject),
					jetstream.MaxInFlight(32), jetstream.Backoff(jetstream.Exponential(time.Minute, time.Minute)))
				require.NoError(b, err)
				ctx, cancel := context.WithCancel(context.Background())
				ran := make(chan error, 1)
				start := time.Now()
				go func() { ran <- f.Run(ctx) }()
				total += (<-cold).Sub(start)
				cancel()
				require.NoError(b, <-ran)
				require.NoError(b, js.DeleteConsumer(b.Context(), stream, durable))
			}
			b.ReportMetric(float64(total)/float64(i)/float64(service), "cold-wait/service")
			b.ReportMetric(0, "ns/op")
		})
	}
}
