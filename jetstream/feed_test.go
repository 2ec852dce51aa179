package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

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
		jetstream.DeadLetter(dlqSubject), jetstream.MaxInFlight(64), jetstream.Window(4),
		jetstream.KeyShare(64)) // no deferring: a deferred message gives up its place in its key's order
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
	info := syncedConsumerInfo(t, js)
	assert.Equal(t, 0, info.NumAckPending)
	assert.Equal(t, uint64(0), info.NumPending)
}

// TestKeysRunSeriallyInOrderUnderConcurrency: with many keys, several workers and small windows
// (so a key's messages also wait in its overflow), no two items of a key ever run at once and
// each key's items run in stream order; the feed never holds more than MaxInFlight messages nor
// keeps more than MaxInFlight+IdleGroups groups open.
func TestKeysRunSeriallyInOrderUnderConcurrency(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	const n, keys, maxInFlight, idle = 4000, 40, 32, 4
	publish(t, js, n, keys)

	var (
		mu      sync.Mutex
		running = map[string]bool{}
		last    = map[string]int{}
		bad     []string
		f       *jetstream.Feed[string, event]
		fReady  = make(chan struct{})
	)
	snk := newSink(n)
	work := func(ctx context.Context, e event) (event, error) {
		<-fReady
		mu.Lock()
		if running[e.Key] {
			bad = append(bad, fmt.Sprintf("key %s: event %d started while another ran", e.Key, e.N))
		}
		if prev, ok := last[e.Key]; ok && e.N <= prev {
			bad = append(bad, fmt.Sprintf("key %s: event %d after %d", e.Key, e.N, prev))
		}
		running[e.Key], last[e.Key] = true, e.N
		st := f.Stats()
		if st.Held > maxInFlight || st.Groups > maxInFlight+idle {
			bad = append(bad, fmt.Sprintf("held %d, groups %d", st.Held, st.Groups))
		}
		mu.Unlock()
		runtime.Gosched() // let another worker try the same key
		mu.Lock()
		running[e.Key] = false
		mu.Unlock()
		return snk.record(ctx, e)
	}
	r := group.New[string](work, group.Workers(8))
	defer r.Shutdown(context.Background())
	var err error
	f, err = jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject),
		jetstream.MaxInFlight(maxInFlight), jetstream.Window(2), jetstream.IdleGroups(idle),
		jetstream.KeyShare(maxInFlight)) // no deferring: a deferred message gives up its place in its key's order
	require.NoError(t, err)
	close(fReady)
	stop := run(t, f)
	<-snk.full
	require.NoError(t, stop())
	assert.Empty(t, bad)
	assert.Len(t, last, keys)
	assert.Equal(t, 0, r.Len(), "every group closed at the end")
	assert.Equal(t, int64(n), f.Stats().Processed)
}

// TestGracefulShutdownFinishesHeldItems: ending Run's context while items are running and
// queued lets them finish and be acknowledged; Run returns nil.
func TestGracefulShutdownFinishesHeldItems(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	publish(t, js, 500, 50)

	entered := make(chan struct{}, 500)
	gate := make(chan struct{})
	r := group.New[string](func(_ context.Context, e event) (event, error) {
		entered <- struct{}{}
		<-gate
		return e, nil
	}, group.Workers(2))
	defer r.Shutdown(context.Background())
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent,
		jetstream.DeadLetter(dlqSubject), jetstream.MaxInFlight(64))
	require.NoError(t, err)
	stop := run(t, f)
	receive(t, entered)
	receive(t, entered) // both workers busy, more messages held behind them

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	close(gate)
	require.NoError(t, receive(t, stopped))
	st := f.Stats()
	assert.Positive(t, st.Received)
	assert.Equal(t, st.Received, st.Processed, "everything received was finished and acknowledged")
	assert.Equal(t, int64(0), st.HandedBack)
	assert.Equal(t, int64(0), st.Held)
	assert.Equal(t, 0, r.Len())
}

// TestDrainTimeoutHandsBack: items still running when DrainTimeout passes get their context
// cancelled; the unfinished messages are handed back at once, and Run says so.
func TestDrainTimeoutHandsBack(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	publish(t, js, 100, 10)

	entered := make(chan struct{}, 100)
	r := group.New[string](func(ctx context.Context, e event) (event, error) {
		entered <- struct{}{}
		<-ctx.Done() // an item that only ends when told to
		return e, context.Cause(ctx)
	}, group.Workers(2))
	defer r.Shutdown(context.Background())
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent,
		jetstream.DeadLetter(dlqSubject), jetstream.MaxInFlight(16), jetstream.DrainTimeout(100*time.Millisecond))
	require.NoError(t, err)
	stop := run(t, f)
	receive(t, entered)
	receive(t, entered)
	err = stop()
	assert.True(t, errors.Is(err, jetstream.ErrDrainTimeout), "Run's error %v wraps ErrDrainTimeout", err)
	st := f.Stats()
	assert.Positive(t, st.HandedBack)
	assert.Equal(t, st.Received, st.Processed+st.HandedBack, "every message settled")
	assert.Equal(t, int64(0), st.Retried+st.DeadLettered)
	assert.Equal(t, int64(0), st.Held)
}

// TestProgressKeepsLongItems: an item that runs three AckWaits long is not redelivered, because
// the feed reports it in progress.
func TestProgressKeepsLongItems(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	const ackWait = 500 * time.Millisecond
	setup(t, js, natsjs.ConsumerConfig{AckWait: ackWait})
	publish(t, js, 3, 1) // one key: the second and third wait behind the first

	done := make(chan event, 3)
	r := group.New[string](func(_ context.Context, e event) (event, error) {
		if e.N == 0 {
			time.Sleep(3 * ackWait) // the long item under test, not synchronization
		}
		done <- e
		return e, nil
	}, group.Workers(2))
	defer r.Shutdown(context.Background())
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject))
	require.NoError(t, err)
	stop := run(t, f)
	for range 3 {
		e := receive(t, done)
		assert.Equal(t, uint64(1), e.Deliveries, "event %d delivered once", e.N)
	}
	require.NoError(t, stop())
	assert.Equal(t, int64(0), f.Stats().Redelivered)
	assert.Equal(t, int64(3), f.Stats().Processed)
}

func TestNewNamesWhatIsMissing(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	r := group.New[string](newSink(1).record)
	defer r.Shutdown(context.Background())
	tests := []struct {
		name     string
		stream   string
		consumer string
		dlq      string
		want     string
	}{
		{"stream", "NOPE", consumerName, dlqSubject, `stream "NOPE"`},
		{"consumer", stream, "nobody", dlqSubject, `consumer "nobody"`},
		{"dead-letter stream", stream, consumerName, "nowhere.dead", `dead-letter subject "nowhere.dead"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jetstream.New(t.Context(), js, tt.stream, tt.consumer, r, decodeEvent, jetstream.DeadLetter(tt.dlq))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestKeyOpenElsewhereIsRetried: a key whose group someone else holds on the router cannot be
// fed; its message is retried, the error reported, and it is processed once the key is free.
func TestKeyOpenElsewhereIsRetried(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	publish(t, js, 1, 1) // key k0

	snk := newSink(1)
	r := group.New[string](snk.record)
	defer r.Shutdown(context.Background())
	other, err := r.Open(t.Context(), "k0")
	require.NoError(t, err)
	reported := make(chan error, 16)
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject),
		jetstream.Backoff(jetstream.Exponential(10*time.Millisecond, 10*time.Millisecond)),
		jetstream.OnError(func(err error) {
			select {
			case reported <- err:
			default:
			}
		}))
	require.NoError(t, err)
	stop := run(t, f)
	err = receive(t, reported)
	assert.True(t, errors.Is(err, group.ErrKeyOpen), "reported %v wraps ErrKeyOpen", err)
	other.Close()
	<-snk.full
	require.NoError(t, stop())
	assert.Positive(t, f.Stats().Retried)
	assert.Equal(t, int64(1), f.Stats().Processed)
}

func TestRunTwicePanics(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	r := group.New[string](newSink(1).record)
	defer r.Shutdown(context.Background())
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject))
	require.NoError(t, err)
	stop := run(t, f)
	require.NoError(t, stop())
	assert.PanicsWithValue(t, "jetstream: Feed.Run called more than once", func() { _ = f.Run(t.Context()) })
}

// A nil context panics at the call site, naming the call.
func TestNilContextPanics(t *testing.T) {
	s := startServer(t, t.TempDir(), -1)
	_, js := connect(t, s.ClientURL())
	setup(t, js, natsjs.ConsumerConfig{})
	r := group.New[string](newSink(1).record)
	defer r.Shutdown(context.Background())
	var nilCtx context.Context
	assert.PanicsWithValue(t, "jetstream: New with a nil context (use context.Background() or a caller's ctx)", func() {
		_, _ = jetstream.New(nilCtx, js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject))
	})
	f, err := jetstream.New(t.Context(), js, stream, consumerName, r, decodeEvent, jetstream.DeadLetter(dlqSubject))
	require.NoError(t, err)
	assert.PanicsWithValue(t, "jetstream: Feed.Run with a nil context (use context.Background() or a caller's ctx)", func() { _ = f.Run(nilCtx) })
}

func TestOptionsPanicOnBadValues(t *testing.T) {
	tests := []struct {
		name string
		give func()
		want string
	}{
		{"MaxInFlight", func() { jetstream.MaxInFlight(0) }, "jetstream: MaxInFlight must be from 1 to 1048576, got 0"},
		{"Window", func() { jetstream.Window(-1) }, "jetstream: Window must be from 1 to 524288, got -1"},
		{"Window above the group's", func() { jetstream.Window(1<<19 + 1) }, "jetstream: Window must be from 1 to 524288, got 524289"},
		{"KeyShare", func() { jetstream.KeyShare(0) }, "jetstream: KeyShare must be from 1 to 1048576, got 0"},
		{"KeyShare above the limit", func() { jetstream.KeyShare(1<<20 + 1) }, "jetstream: KeyShare must be from 1 to 1048576, got 1048577"},
		{"MaxInFlight above the limit", func() { jetstream.MaxInFlight(1<<20 + 1) }, "jetstream: MaxInFlight must be from 1 to 1048576, got 1048577"},
		{"IdleGroups", func() { jetstream.IdleGroups(-2) }, "jetstream: IdleGroups must not be negative, got -2"},
		{"DeadLetter", func() { jetstream.DeadLetter("") }, "jetstream: DeadLetter subject must not be empty"},
		{"Backoff", func() { jetstream.Backoff(nil) }, "jetstream: Backoff policy must not be nil"},
		{"OnError", func() { jetstream.OnError(nil) }, "jetstream: OnError func must not be nil"},
		{"ProgressEvery", func() { jetstream.ProgressEvery(0) }, "jetstream: ProgressEvery must be positive, got 0s"},
		{"DisconnectTimeout", func() { jetstream.DisconnectTimeout(-time.Second) }, "jetstream: DisconnectTimeout must be positive, got -1s"},
		{"DrainTimeout", func() { jetstream.DrainTimeout(0) }, "jetstream: DrainTimeout must be positive, got 0s"},
		{"Exponential min", func() { jetstream.Exponential(0, time.Second) }, "jetstream: Exponential min must be positive, got 0s"},
		{"Exponential max", func() { jetstream.Exponential(time.Second, time.Millisecond) }, "jetstream: Exponential max must be at least min 1s, got 1ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, tt.give)
		})
	}
}
