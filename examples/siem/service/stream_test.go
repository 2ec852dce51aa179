package service_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// The tests of JetStream mode run two instances in one process against one embedded NATS server
// and one SQLite file. The instances share the database as the processes of a scaled-out service
// would: the accounts and keys made through one are valid on the other, and the account ids the
// messages carry mean the same to both. Each instance has its own SQLite connections, so the file
// has two writers, which WAL mode and the busy timeout serialise.

// request is one POST /events body of the tests, for one account.
type request struct {
	key      string
	body     string
	severity map[string]int // ref -> severity, for the events that have a ref
	refless  int            // events without a ref
	retry    bool           // post it again once answered, as a client whose answer was lost
}

// makeRequests spreads n events over requests of 1 to 40 events, each for one of keys. One event
// in ten has no ref; a tenth of the requests whose events all have refs are marked for a retry.
func makeRequests(rng *rand.Rand, keys []string, n int) []request {
	var reqs []request
	for i := 0; i < n; {
		size := min(1+rng.IntN(40), n-i)
		acct := rng.IntN(len(keys))
		r := request{key: keys[acct], severity: map[string]int{}}
		var b strings.Builder
		for j := range size {
			sev := (i + j) % 11
			if (i+j)%10 == 9 {
				fmt.Fprintf(&b, `{"type":"test","severity":%d,"message":"no ref, a%d-%d"}`+"\n", sev, acct, i+j)
				r.refless++
				continue
			}
			ref := fmt.Sprintf("a%d-%d", acct, i+j)
			r.severity[ref] = sev
			b.WriteString(event(ref, sev, "m "+ref) + "\n")
		}
		r.body = b.String()
		r.retry = r.refless == 0 && rng.IntN(10) == 0
		reqs = append(reqs, r)
		i += size
	}
	return reqs
}

// answered is a request with its answers: first, and again for the retry if it had one.
type answered struct {
	request
	first, again published
}

// postAll posts the requests from 8 clients, each request to a random instance, and a retry to a
// random instance once the first answer came.
func postAll(t *testing.T, seed uint64, reqs []request, ins ...*instance) []answered {
	t.Helper()
	out := make([]answered, len(reqs))
	errs := make(chan error, len(reqs))
	next := make(chan int, len(reqs))
	for i := range reqs {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for c := range 8 {
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		wg.Go(func() {
			for i := range next {
				a := answered{request: reqs[i]}
				var err error
				if a.first, err = ins[rng.IntN(len(ins))].post(a.key, a.body); err == nil && a.retry {
					a.again, err = ins[rng.IntN(len(ins))].post(a.key, a.body)
				}
				out[i] = a
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return out
}

// views reads accepted events from an instance's websocket until ctx ends, tagged with the
// instance's index.
type view struct {
	from int
	uid  string
}

func watch(t *testing.T, ctx context.Context, wg *sync.WaitGroup, out chan<- view, from int, in *instance, key string) {
	t.Helper()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.url, "http")+"/ws", &websocket.DialOptions{HTTPHeader: withKey(nil, key)})
	require.NoError(t, err)
	c.SetReadLimit(1 << 20)
	wg.Go(func() {
		defer c.CloseNow()
		for {
			recv, err := receive(ctx, c, 1)
			if err != nil {
				return
			}
			out <- view{from: from, uid: recv[0].UID}
		}
	})
}

func TestJetStreamTwoInstancesShareTheWork(t *testing.T) {
	const n = 2000
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	ns := startNATS(t)
	_, js := connectJS(t, authURL(ns))
	db := filepath.Join(t.TempDir(), "siem.db")
	cfg := service.Config{DB: db, NATS: authURL(ns), AlertThreshold: 8, ClientQueue: 4 * n}
	ins := []*instance{startInstance(t, cfg), startInstance(t, cfg)}

	keys := make([]string, 6)
	for i := range keys {
		var err error
		keys[i], err = ins[i%2].svc.CreateAccount(t.Context(), fmt.Sprintf("acct%d", i), "Org", true)
		require.NoError(t, err)
	}
	// A bound on the whole run, posts included: about 15 s under -race on a quiet machine, and
	// more than 20 s (the bound before) when other jobs keep the load average of its 2 cores
	// near 12, though every event was still coming in.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	views := make(chan view, 4*n)
	var readers sync.WaitGroup
	for i, in := range ins {
		for _, key := range keys { // a client sees its own account's events: one client an account
			watch(t, ctx, &readers, views, i, in, key)
		}
	}

	answers := postAll(t, seed, makeRequests(rng, keys, n), ins...)
	queued := map[string]bool{}
	for _, a := range answers {
		uids := a.first.queued(t)
		require.Len(t, uids, len(a.severity)+a.refless, "every event of a first post is queued")
		for i, r := range a.first.results {
			queued[r.UID] = true
			if a.again.code != 0 { // the retry: every event is the stream's duplicate of the first
				assert.Equal(t, service.StatusRejected, a.again.results[i].Status)
				assert.Equal(t, fmt.Sprintf("duplicate ref %q", r.Ref), a.again.results[i].Reason)
				assert.Equal(t, r.Seq, a.again.results[i].Seq, "the retry names the first copy's sequence")
			}
		}
		if a.again.code != 0 {
			assert.Equal(t, "0", a.again.header, "a retry publishes nothing")
		}
	}
	require.Len(t, queued, n, "every event queued once, with its own uid")

	// Every event reaches the websocket clients of the instance that processed it.
	seen, per := map[string]int{}, [2]int{}
	for len(seen) < n {
		select {
		case v := <-views:
			require.True(t, queued[v.uid], "a view of a queued event")
			seen[v.uid]++
			per[v.from]++
		case <-ctx.Done():
			t.Fatalf("%d of %d events seen on the websockets", len(seen), n)
		}
	}
	cancel()
	readers.Wait()

	for i, in := range ins {
		require.NoError(t, in.stop(), "instance %d stops gracefully", i)
	}
	stats := []service.Stats{ins[0].svc.Stats(), ins[1].svc.Stats()} // final once stopped
	consumerIdle(t, js)
	dbh := openDB(t, db)
	got := storedUIDs(t, dbh)
	assert.Len(t, got, n, "every queued event stored")
	for uid := range queued {
		assert.Equal(t, 1, got[uid], "event %s stored once", uid)
	}
	var alerting, alerts, alerted int
	require.NoError(t, dbh.QueryRow(`SELECT COUNT(*) FROM events WHERE severity >= 8`).Scan(&alerting))
	require.NoError(t, dbh.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT event_uid) FROM alerts`).Scan(&alerts, &alerted))
	assert.Positive(t, alerting)
	assert.Equal(t, alerting, alerts, "an alert for every event at or above the threshold")
	assert.Equal(t, alerts, alerted, "one alert an event")
	var processed int64
	for i, st := range stats {
		t.Logf("instance %d: %+v, %d views", i, *st.Stream, per[i])
		assert.Positive(t, st.Stream.Processed, "instance %d took a share", i)
		assert.Equal(t, int64(per[i]), st.Statuses[service.StatusAccepted], "instance %d showed what it processed", i)
		processed += st.Stream.Processed
	}
	assert.Equal(t, int64(n), processed, "each event processed once between them")
}

// gateHook, run in the enrich stage of every event, holds every event until release is closed,
// and says when it holds one.
type gateHook struct {
	holding chan struct{}
	release chan struct{}
}

func (g gateHook) hook(ctx context.Context, _ *service.Event) error {
	select {
	case g.holding <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func TestJetStreamInstanceStopsMidRun(t *testing.T) {
	const n = 1000
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	ns := startNATS(t)
	_, js := connectJS(t, authURL(ns))
	db := filepath.Join(t.TempDir(), "siem.db")
	gate := gateHook{holding: make(chan struct{}, 1), release: make(chan struct{})}
	// a holds its events: it is stopped while it holds some.
	acfg := service.Config{DB: db, NATS: authURL(ns)}
	service.SetHook(&acfg, gate.hook)
	a := startInstance(t, acfg)
	b := startInstance(t, service.Config{DB: db, NATS: authURL(ns)})
	keys := make([]string, 6)
	for i := range keys {
		var err error
		keys[i], err = a.svc.CreateAccount(t.Context(), fmt.Sprintf("acct%d", i), "Org", true)
		require.NoError(t, err)
	}
	reqs := makeRequests(rng, keys, n)
	half := len(reqs) / 2
	queued := 0
	for _, ans := range postAll(t, seed, reqs[:half], a, b) {
		queued += len(ans.first.queued(t))
	}

	select {
	case <-gate.holding:
	case <-time.After(10 * time.Second):
		t.Fatal("instance a took no event within 10 s")
	}
	held := a.svc.Stats().Stream.Held
	require.Positive(t, held, "a holds events as it is stopped")
	a.cancel() // graceful: a stops taking events and finishes those it holds
	for _, ans := range postAll(t, seed+1, reqs[half:], b) {
		queued += len(ans.first.queued(t))
	}
	close(gate.release)
	require.NoError(t, a.stop(), "a drains and stops")
	stA := a.svc.Stats().Stream
	assert.Zero(t, stA.HandedBack, "a handed nothing back: it finished what it held")
	assert.Zero(t, stA.Held, "a holds nothing once stopped")
	// Every event a took is settled in exactly one way: processed, or sent back to be delivered
	// later (an account over its share of a's in-flight events is deferred; b takes it).
	assert.Equal(t, stA.Received, stA.Processed+stA.Deferred+stA.Retried+stA.DeadLettered+stA.Dropped,
		"a settled every event it took")
	assert.GreaterOrEqual(t, stA.Processed, held, "a finished the events it held")

	dbh := openDB(t, db)
	waitStored(t, dbh, queued, 15*time.Second)
	require.NoError(t, b.stop())
	stB := b.svc.Stats().Stream
	consumerIdle(t, js)
	got := storedUIDs(t, dbh)
	assert.Len(t, got, queued, "every queued event stored")
	for uid, times := range got {
		assert.Equal(t, 1, times, "event %s stored once", uid)
	}
	t.Logf("a: %+v; b: %+v", *stA, *stB)
	assert.Positive(t, stB.Processed, "b finished the rest")
	// b may get redeliveries: messages the server had sent to a as it stopped pulling, which
	// a's feed never received. Nothing ran twice: each event was acknowledged once.
	assert.Equal(t, int64(queued), stA.Processed+stB.Processed, "each event processed once between them")
}

// A message delivered again after its event was stored (its acknowledgement lost, its AckWait
// expired) carries the same uid, given at intake: the event is stored and alerted once. The
// test makes the second delivery by publishing each message's data again, without its
// Nats-Msg-Id, which the stream would otherwise drop.
func TestJetStreamRedeliveryStoresOnce(t *testing.T) {
	ns := startNATS(t)
	nc, js := connectJS(t, authURL(ns))
	db := filepath.Join(t.TempDir(), "siem.db")
	in := startInstance(t, service.Config{DB: db, NATS: authURL(ns), AlertThreshold: 8})
	key := in.svc.DemoKey()
	require.NotEmpty(t, key)
	raw, err := nc.SubscribeSync(service.SubjectPrefix + ">")
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	views := make(chan view, 8)
	var readers sync.WaitGroup
	watch(t, ctx, &readers, views, 0, in, key)

	p, err := in.post(key, ndjson(event("r1", 9, "with a ref"), `{"type":"test","severity":9,"message":"no ref"}`))
	require.NoError(t, err)
	uids := p.queued(t)
	require.Len(t, uids, 2)
	for range 2 {
		m, err := raw.NextMsg(5 * time.Second)
		require.NoError(t, err)
		_, err = js.Publish(ctx, m.Subject, m.Data)
		require.NoError(t, err)
	}
	seen := map[string]int{}
	for range 4 {
		select {
		case v := <-views:
			seen[v.uid]++
		case <-ctx.Done():
			t.Fatalf("views %v, want each of %v twice", seen, uids)
		}
	}
	cancel()
	readers.Wait()
	require.NoError(t, in.stop())

	assert.Equal(t, map[string]int{uids[0]: 2, uids[1]: 2}, seen, "each delivery ran the stages")
	dbh := openDB(t, db)
	assert.Equal(t, map[string]int{uids[0]: 1, uids[1]: 1}, storedUIDs(t, dbh), "each event stored once")
	var alerts int
	require.NoError(t, dbh.QueryRow(`SELECT COUNT(*) FROM alerts`).Scan(&alerts))
	assert.Equal(t, 2, alerts, "each event alerted once")
	st := in.svc.Stats()
	assert.Equal(t, int64(4), st.Statuses[service.StatusAccepted], "a second delivery is not a duplicate ref")
	assert.Zero(t, st.Statuses[service.StatusRejected])
	assert.Equal(t, int64(4), st.Stream.Processed)
	consumerIdle(t, js)
}

// A feed that stops on its own (here: its consumer was deleted) stops the service, so that the
// instance is restarted rather than taking events it cannot process.
func TestJetStreamServeEndsWhenFeedStops(t *testing.T) {
	ns := startNATS(t)
	_, js := connectJS(t, authURL(ns))
	svc, err := service.New(t.Context(), service.Config{DB: filepath.Join(t.TempDir(), "siem.db"), NATS: authURL(ns)})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- svc.Serve(context.Background(), ln) }()
	in := &instance{svc: svc, url: "http://" + ln.Addr().String()}

	// One event through first: the feed is then consuming, so the server tells it at once that
	// its consumer is gone (deleted before its first pull, it would notice only by missed
	// heartbeats, after about 30 s).
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	views := make(chan view, 1)
	var readers sync.WaitGroup
	watch(t, ctx, &readers, views, 0, in, svc.DemoKey())
	p, err := in.post(svc.DemoKey(), ndjson(event("r1", 1, "first")))
	require.NoError(t, err)
	require.Len(t, p.queued(t), 1)
	select {
	case <-views:
	case <-ctx.Done():
		t.Fatal("the event was not processed within 10 s")
	}
	cancel()
	readers.Wait()

	require.NoError(t, js.DeleteConsumer(t.Context(), service.DefaultStream, service.DefaultConsumer))
	select {
	case err := <-served:
		require.ErrorIs(t, err, jetstream.ErrConsumeStopped)
	case <-time.After(15 * time.Second):
		t.Fatal("Serve still running 15 s after its consumer was deleted")
	}
}

func TestJetStreamConfig(t *testing.T) {
	db := filepath.Join(t.TempDir(), "siem.db")
	tests := []struct {
		name string
		give service.Config
		want string
	}{
		{"pipe from a stream", service.Config{DB: db, NATS: "nats://127.0.0.1:1", Design: service.DesignPipe}, `design "pipe" cannot run from a stream`},
		{"jetstream without a server", service.Config{DB: db, Design: service.DesignJetStream}, "needs Config.NATS"},
		{"no server listening", service.Config{DB: db, NATS: "nats://127.0.0.1:1"}, "connect to nats://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := service.New(t.Context(), tt.give)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
