package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// What a stress message does, by its data: a number is processed (failing on its first delivery
// if it is a multiple of 7), "perm" fails with a permanent error, "panic" panics in the work
// func, "poison" fails to decode, "exit" calls runtime.Goexit in the decode func.
var stressKinds = []string{"perm", "panic", "poison", "exit"}

// TestStressFeedSettlesEveryMessageOnce runs rounds of random sizes, key skews (one key taking
// up to most of the messages), in-flight bounds, windows, key shares and MaxDeliver, with
// transient and permanent failures, panics, poison messages and Goexits in decode: every message
// ends exactly once, processed or dead-lettered, as its kind says; nothing is held, handed back,
// dropped or left pending on the server.
func TestStressFeedSettlesEveryMessageOnce(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	for round := range 3 {
		n := 200 + rng.IntN(800)
		keys := 1 + rng.IntN(30)
		hot := rng.Float64() * 0.8 // the share of messages on key k0
		maxInFlight := 4 + rng.IntN(60)
		window := 1 + rng.IntN(8)
		maxDeliver := []int{-1, 2, 3}[rng.IntN(3)]
		opts := []jetstream.Option{jetstream.DeadLetter(dlqSubject), jetstream.MaxInFlight(maxInFlight),
			jetstream.Window(window), jetstream.IdleGroups(rng.IntN(8)),
			jetstream.Backoff(jetstream.Exponential(time.Millisecond, 5*time.Millisecond))}
		share := 0
		if rng.IntN(2) == 0 {
			share = 1 + rng.IntN(maxInFlight)
			opts = append(opts, jetstream.KeyShare(share))
		}
		name := fmt.Sprintf("round%d/n%d/keys%d/hot%.2f/inflight%d/window%d/share%d/maxdeliver%d",
			round, n, keys, hot, maxInFlight, window, share, maxDeliver)
		t.Run(name, func(t *testing.T) {
			stressRound(t, rng, n, keys, hot, maxDeliver, opts)
		})
	}
}

func stressRound(t *testing.T, rng *rand.Rand, n, keys int, hot float64, maxDeliver int, opts []jetstream.Option) {
	s := startServer(t, t.TempDir(), -1)
	nc, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{MaxDeliver: maxDeliver})

	wantDead := map[uint64]bool{} // by stream sequence
	for i := range n {
		key := "k0"
		if rng.Float64() >= hot {
			key = "k" + strconv.Itoa(rng.IntN(keys))
		}
		data := strconv.Itoa(i)
		if rng.IntN(25) == 0 {
			data = stressKinds[rng.IntN(len(stressKinds))]
		}
		ack, err := js.Publish(t.Context(), "events."+key, []byte(data))
		require.NoError(t, err)
		if _, err := strconv.Atoi(data); err != nil {
			wantDead[ack.Sequence] = true
		}
	}

	var (
		mu        sync.Mutex
		processed = map[uint64]int{}
		dead      = map[uint64]int{}
		done      = make(chan struct{})
	)
	settled := func() { // with mu held
		if len(processed)+len(dead) == n {
			select {
			case <-done:
			default:
				close(done)
			}
		}
	}
	sub, err := nc.Subscribe(dlqSubject, func(m *nats.Msg) {
		seq, _ := strconv.ParseUint(m.Header.Get(jetstream.HeaderSequence), 10, 64)
		mu.Lock()
		defer mu.Unlock()
		dead[seq]++
		settled()
	})
	require.NoError(t, err)
	defer func() { _ = sub.Unsubscribe() }()
	require.NoError(t, nc.Flush())

	errPerm := errors.New("bad order")
	r := group.New[string](func(_ context.Context, e event) (event, error) {
		switch e.N {
		case -1:
			return e, jetstream.Permanent(errPerm)
		case -2:
			panic("boom")
		}
		if e.N%7 == 0 && e.Deliveries == 1 {
			return e, errFlaky
		}
		mu.Lock()
		defer mu.Unlock()
		processed[e.Seq]++
		settled()
		return e, nil
	}, group.Workers(1+rng.IntN(8)))
	defer r.Shutdown(context.Background())
	decode := func(m natsjs.Msg) (string, event, error) {
		switch string(m.Data()) {
		case "exit":
			runtime.Goexit()
		case "perm", "panic":
			meta, err := m.Metadata()
			if err != nil {
				return "", event{}, err
			}
			e := event{Key: jetstream.Token(m.Subject(), -1), N: -1, Seq: meta.Sequence.Stream, Deliveries: meta.NumDelivered}
			if string(m.Data()) == "panic" {
				e.N = -2
			}
			return e.Key, e, nil
		}
		return decodeEvent(m)
	}
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decode, opts...)
	require.NoError(t, err)
	stop := run(t, f)
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		mu.Lock()
		t.Fatalf("settled %d of %d in 2 minutes: %+v", len(processed)+len(dead), n, f.Stats())
	}
	require.NoError(t, stop())

	mu.Lock()
	defer mu.Unlock()
	for seq := uint64(1); seq <= uint64(n); seq++ {
		if wantDead[seq] {
			assert.Equal(t, 1, dead[seq], "message %d dead-lettered once", seq)
			assert.Zero(t, processed[seq], "message %d not processed", seq)
		} else {
			assert.Equal(t, 1, processed[seq], "message %d processed once", seq)
			assert.Zero(t, dead[seq], "message %d not dead-lettered", seq)
		}
	}
	st := f.Stats()
	assert.Equal(t, int64(0), st.Held)
	assert.Equal(t, int64(0), st.HandedBack+st.Dropped)
	assert.Equal(t, st.Received, st.Processed+st.Retried+st.Deferred+st.DeadLettered+st.HandedBack+st.Dropped,
		"every message settled once: %+v", st)
	info := syncedConsumerInfo(t, js)
	assert.Equal(t, 0, info.NumAckPending)
	assert.Equal(t, uint64(0), info.NumPending)
}
