package jetstream_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// benchWorkload is what each message costs: trivial work, or an I/O-bound wait of a millisecond.
type benchWorkload struct {
	name    string
	msgs    int // messages in the stream, all consumed by each pass
	keys    int
	workers int // the router's workers (the plain loop has its one delivery goroutine)
	work    func(context.Context, event) (event, error)
}

var benchWorkloads = []benchWorkload{
	{"trivial", 20_000, 256, runtime.GOMAXPROCS(0), func(_ context.Context, e event) (event, error) {
		e.N = e.N*31 + 7
		return e, nil
	}},
	{"io-1ms", 2_000, 256, 64, func(_ context.Context, e event) (event, error) {
		time.Sleep(time.Millisecond) // the I/O-bound workload: a call that waits a millisecond
		return e, nil
	}},
}

// BenchmarkConsume measures messages per second end to end, from a stream already holding the
// messages, through decode, the work and the acknowledgement, for a Feed over a group.Router
// ("feed") and for a plain nats.go Consume loop doing the same decode, work and Ack in its
// callback ("plain"). Each iteration consumes the whole stream twice, once each way, in
// alternating order, through new durable consumers, so that both see the same machine: the
// server runs embedded in the benchmark's process, and the machine may be shared. It reports
// each way's median rate over the iterations and feed/plain, the ratio of the medians.
func BenchmarkConsume(b *testing.B) {
	for _, w := range benchWorkloads {
		b.Run(w.name, func(b *testing.B) {
			s := startServer(b, b.TempDir(), -1)
			_, js := connect(b, s.ClientURL())
			_, err := js.CreateStream(b.Context(), natsjs.StreamConfig{Name: stream, Subjects: []string{"events.>"}})
			require.NoError(b, err)
			_, err = js.CreateStream(b.Context(), natsjs.StreamConfig{Name: dlqStream, Subjects: []string{"deadletter.>"}})
			require.NoError(b, err)
			publish(b, js, w.msgs, w.keys)
			r := group.New[string](w.work, group.Workers(w.workers))
			defer r.Shutdown(context.Background())

			var plain, feed []float64 // seconds a pass
			i := 0
			for b.Loop() {
				plainPass := func() float64 {
					return timePass(b, js, fmt.Sprintf("plain%d", i), func(name string) { consumePlain(b, js, name, w) })
				}
				feedPass := func() float64 {
					return timePass(b, js, fmt.Sprintf("feed%d", i), func(name string) { consumeFeed(b, js, name, w, r) })
				}
				var p, f float64
				if i%2 == 0 {
					p, f = plainPass(), feedPass()
				} else {
					f, p = feedPass(), plainPass()
				}
				plain, feed = append(plain, p), append(feed, f)
				i++
			}
			mp, mf := median(plain), median(feed)
			b.ReportMetric(float64(w.msgs)/mp, "plain-msgs/s")
			b.ReportMetric(float64(w.msgs)/mf, "feed-msgs/s")
			b.ReportMetric(mf/mp, "feed/plain")
			b.ReportMetric(mf*1e9/float64(w.msgs), "ns/msg")
			b.ReportMetric(0, "ns/op") // an op is several passes over the stream: the rates say it better
		})
	}
}

// timePass creates a durable consumer, times consume through it, and deletes it.
func timePass(b *testing.B, js natsjs.JetStream, name string, consume func(name string)) float64 {
	_, err := js.CreateOrUpdateConsumer(b.Context(), stream,
		natsjs.ConsumerConfig{Durable: name, AckPolicy: natsjs.AckExplicitPolicy})
	require.NoError(b, err)
	start := time.Now()
	consume(name)
	took := time.Since(start).Seconds()
	require.NoError(b, js.DeleteConsumer(b.Context(), stream, name))
	return took
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}

// consumePlain is the plain loop: decode, work and Ack in the Consume callback, pulling with the
// same buffer as the feed.
func consumePlain(b *testing.B, js natsjs.JetStream, name string, w benchWorkload) {
	c, err := js.Consumer(b.Context(), stream, name)
	require.NoError(b, err)
	var done atomic.Int64
	all := make(chan struct{})
	cc, err := c.Consume(func(m natsjs.Msg) {
		_, e, err := decodeEvent(m)
		if err == nil {
			_, err = w.work(context.Background(), e)
		}
		if err != nil {
			_ = m.Nak()
			return
		}
		_ = m.Ack()
		if done.Add(1) == int64(w.msgs) {
			close(all)
		}
	}, natsjs.PullMaxMessages(jetstream.DefaultMaxInFlight)) // the feed's pull buffer (the client's default is 500)
	require.NoError(b, err)
	<-all
	cc.Stop()
	<-cc.Closed()
}

// consumeFeed runs a Feed until every message was decoded, then stops it gracefully, which
// finishes the work and acknowledges every message before Run returns.
func consumeFeed(b *testing.B, js natsjs.JetStream, name string, w benchWorkload, r *group.Router[string, event]) {
	var done atomic.Int64
	all := make(chan struct{})
	f, err := jetstream.New(b.Context(), js, stream, name, r, func(m natsjs.Msg) (string, event, error) {
		k, e, err := decodeEvent(m)
		if err == nil && done.Add(1) == int64(w.msgs) {
			close(all)
		}
		return k, e, err
	}, jetstream.DeadLetter(dlqSubject), jetstream.IdleGroups(w.keys))
	require.NoError(b, err)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- f.Run(ctx) }()
	<-all
	cancel()
	require.NoError(b, <-ran)
	if st := f.Stats(); st.Processed != int64(w.msgs) {
		b.Fatalf("processed %d of %d: %+v", st.Processed, w.msgs, st)
	}
}
