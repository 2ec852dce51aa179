package service_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
	"github.com/stagecoach-go/stagecoach/jetstream"
)

// The NATS server takes no connection without credentials; the service takes them in its URL or
// in NATSUser and NATSPassword, and never shows the password in an error.
func TestJetStreamNeedsCredentials(t *testing.T) {
	ns := startNATS(t)
	_, err := nats.Connect(ns.ClientURL())
	require.Error(t, err, "an anonymous client is refused")
	assert.ErrorIs(t, err, nats.ErrAuthorization)

	db := filepath.Join(t.TempDir(), "siem.db")
	wrong := strings.Replace(authURL(ns), natsPassword, "not-the-password", 1)
	_, err = service.New(t.Context(), service.Config{DB: db, NATS: wrong})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connect to nats://siem:xxxxx@")
	assert.NotContains(t, err.Error(), "not-the-password")

	in := startInstance(t, service.Config{DB: db, NATS: ns.ClientURL(), NATSUser: natsUser, NATSPassword: natsPassword})
	p, err := in.post(in.svc.DemoKey(), ndjson(event("c1", 1, "with credentials")))
	require.NoError(t, err)
	require.Len(t, p.queued(t), 1)
}

// rawEvent is an event as the service publishes it to the stream, for the tests that publish
// straight to NATS.
func rawEvent(account int64, uid string, severity int, typ, msg string) string {
	b, _ := json.Marshal(map[string]any{"uid": uid, "account_id": account, "type": typ, "severity": severity,
		"message": msg, "source": "nats", "received_at": time.Now().UTC()})
	return string(b)
}

// withField returns the JSON object data with the field set to v.
func withField(data, field string, v any) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		panic(err)
	}
	m[field] = v
	b, _ := json.Marshal(m)
	return string(b)
}

// An event published straight to the stream, past POST /events, meets the same checks: an
// invalid one is dead-lettered at once with the reason, and nothing of it is stored.
func TestJetStreamInvalidEventIsDeadLettered(t *testing.T) {
	ns := startNATS(t)
	_, js := connectJS(t, authURL(ns))
	db := filepath.Join(t.TempDir(), "siem.db")
	in := startInstance(t, service.Config{DB: db, NATS: authURL(ns)})
	id, err := in.svc.DemoAccountID(t.Context())
	require.NoError(t, err)
	subject := fmt.Sprintf("%s%d", service.SubjectPrefix, id)
	uid := func(i int) string { return fmt.Sprintf("%024x", i) }
	bad := []struct{ data, want string }{
		{rawEvent(id, uid(1), 99, "t", "m"), `field "severity" is 99`},
		{rawEvent(id, uid(2), -5, "t", "m"), `field "severity" is -5`},
		{rawEvent(id, uid(3), 1, "", "m"), `missing required field "type"`},
		{rawEvent(id, uid(4), 1, "t", ""), `missing required field "message"`},
		{rawEvent(id, uid(5), 1, "x\r\nBcc: a@b.example", "m"), `field "type" has the character U+000D`},
		{rawEvent(id+1, uid(6), 1, "t", "m"), "is not that of the subject"},
		{rawEvent(id, "short", 1, "t", "m"), `uid "short" is not 24 hex digits`},
		{`{"not": "an event"}`, `unknown field "not"`},
		{"not JSON at all", "invalid character"},
		{rawEvent(id, uid(7), 1, "evil\u202eexe.txt", "m"), `field "type" has the character U+202E`},
		{rawEvent(id, uid(8), 1, strings.Repeat("t", service.MaxType+1), "m"), `field "type" is 101 bytes long`},
		{withField(rawEvent(id, uid(9), 1, "t", "m"), "occurred_at", "0001-01-01T00:00:00Z"), `field "time" is 0001-01-01T00:00:00Z`},
	}
	for _, b := range bad {
		_, err := js.Publish(t.Context(), subject, []byte(b.data))
		require.NoError(t, err)
	}
	_, err = js.Publish(t.Context(), subject, []byte(rawEvent(id, uid(100), 1, "t", "a valid one")))
	require.NoError(t, err)

	dead, err := js.OrderedConsumer(t.Context(), service.DefaultStream+"_DEAD", natsjs.OrderedConsumerConfig{})
	require.NoError(t, err)
	var reasons []string
	for range bad {
		m, err := dead.Next(natsjs.FetchMaxWait(10 * time.Second))
		require.NoError(t, err, "dead letters within 10 s (%d so far)", len(reasons))
		assert.Equal(t, jetstream.ReasonDecode, m.Headers().Get(jetstream.HeaderReason))
		reasons = append(reasons, m.Headers().Get(jetstream.HeaderError))
	}
	for i, b := range bad {
		assert.Contains(t, reasons[i], b.want, "dead letter %d", i)
	}
	dbh := openDB(t, db)
	waitStored(t, dbh, 1, 10*time.Second)
	assert.Equal(t, int64(len(bad)), in.svc.Stats().Stream.DeadLettered)
	require.NoError(t, in.stop())
	assert.Equal(t, map[string]int{uid(100): 1}, storedUIDs(t, dbh), "the valid event alone is stored")
	assert.Zero(t, storedCount(t, dbh, `SELECT COUNT(*) FROM alerts`), "no alert: severity 99 wrote none")
	consumerIdle(t, js)
}

// With the mail server refusing for longer than the feed retries a failing event (MaxDeliver
// deliveries and the backoff between them), every queued event is stored, none is retried or
// dead-lettered, and every alert is mailed once the server is back. The proof that the outage
// outlasted MaxDeliver x backoff is in the same run: a control event whose stage fails on every
// delivery, posted with the others, is dead-lettered while the mail server still refuses.
func TestJetStreamMailOutageLosesNothing(t *testing.T) {
	const n = 20
	ns := startNATS(t)
	_, js := connectJS(t, authURL(ns))
	db := filepath.Join(t.TempDir(), "siem.db")
	// A first start creates the streams and the consumer as the service does (and the demo key);
	// the consumer then gets a short BackOff list, which the feed follows, so that MaxDeliver
	// deliveries take a second and a half instead of the default policy's 15 s.
	first := startInstance(t, service.Config{DB: db, NATS: authURL(ns)})
	key := first.svc.DemoKey()
	require.NoError(t, first.stop())
	cons, err := js.Consumer(t.Context(), service.DefaultStream, service.DefaultConsumer)
	require.NoError(t, err)
	cc := cons.CachedInfo().Config
	require.Equal(t, service.MaxDeliver, cc.MaxDeliver)
	cc.BackOff = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	require.Len(t, cc.BackOff, service.MaxDeliver-1, "one delay between each two deliveries")
	_, err = js.UpdateConsumer(t.Context(), service.DefaultStream, cc)
	require.NoError(t, err)
	var retryFor time.Duration // from the first delivery to the last
	for _, d := range cc.BackOff {
		retryFor += d
	}

	f := newFakeSMTP(t, smtpRefuse)
	cfg := service.Config{DB: db, NATS: authURL(ns), AlertThreshold: 8, SMTP: mailTo(f),
		AlertRetry: time.Millisecond, AlertRetryMax: 20 * time.Millisecond}
	service.SetHook(&cfg, func(_ context.Context, e *service.Event) error {
		if e.Ref == "control" {
			return errors.New("the control event fails on every delivery")
		}
		return nil
	})
	in := startInstance(t, cfg)
	dead, err := js.OrderedConsumer(t.Context(), service.DefaultStream+"_DEAD", natsjs.OrderedConsumerConfig{})
	require.NoError(t, err)

	evs := []string{event("control", 1, "fails in a stage")}
	for i := range n {
		evs = append(evs, event(fmt.Sprintf("c%d", i), 8+i%3, fmt.Sprintf("critical %d", i)))
	}
	posted := time.Now()
	p, err := in.post(key, ndjson(evs...))
	require.NoError(t, err)
	uids := p.queued(t)
	require.Len(t, uids, n+1)
	control, uids := uids[0], uids[1:]

	m, err := dead.Next(natsjs.FetchMaxWait(30 * time.Second))
	require.NoError(t, err, "the control event is dead-lettered")
	assert.Equal(t, jetstream.ReasonMaxDeliver, m.Headers().Get(jetstream.HeaderReason))
	assert.Contains(t, string(m.Data()), control)
	outage := time.Since(posted)
	require.GreaterOrEqual(t, outage, retryFor, "the consumer's backoff was followed")
	t.Logf("mail server refusing for %v so far: the control event was delivered %d times in it",
		outage.Round(time.Millisecond), service.MaxDeliver)

	// Still refusing, past MaxDeliver x backoff: every critical event is stored, none retried.
	dbh := openDB(t, db)
	waitStored(t, dbh, n, 15*time.Second)
	assert.Equal(t, n, storedCount(t, dbh, `SELECT COUNT(*) FROM alerts WHERE sent_at IS NULL`), "every alert pending")
	refused := 0
	for len(f.refused) > 0 {
		<-f.refused
		refused++
	}
	assert.GreaterOrEqual(t, refused, 2*service.MaxDeliver, "mail attempts refused during the outage")
	// The feed counts a dead letter once the stream has it and the message is terminated.
	require.Eventually(t, func() bool { return in.svc.Stats().Stream.DeadLettered > 0 }, 10*time.Second, 5*time.Millisecond)
	st := in.svc.Stats().Stream
	assert.Equal(t, int64(1), st.DeadLettered, "the control event alone is dead-lettered")
	assert.Equal(t, int64(service.MaxDeliver-1), st.Retried, "the control event alone is retried")
	consumerIdle(t, js)

	f.setMode(smtpRecord)
	got := map[string]int{}
	for range n {
		m := nextMail(t, f, 20*time.Second)
		for _, uid := range uids {
			if strings.Contains(m, uid) {
				got[uid]++
			}
		}
	}
	for _, uid := range uids {
		assert.Equal(t, 1, got[uid], "alert of %s mailed once", uid)
	}
	waitCount(t, dbh, `SELECT COUNT(*) FROM alerts WHERE sent_at IS NULL`, 0, 10*time.Second)
	require.NoError(t, in.stop())
	stored := storedUIDs(t, dbh)
	assert.Len(t, stored, n, "the critical events, and not the control one")
	for _, uid := range uids {
		assert.Equal(t, 1, stored[uid], "event %s stored once", uid)
	}
}

// storedCount runs a COUNT query.
func storedCount(t testing.TB, db *sql.DB, query string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(query).Scan(&n))
	return n
}

// With NATS down, a request is answered 503 with Retry-After, never "failed" for events the
// stream may have stored, and /readyz says so; once NATS is back, the same request sent again
// stores each event once, whether or not the first attempt had reached the stream. Its events
// have no ref: the service derives one.
func TestJetStreamAnswersAreTrue(t *testing.T) {
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, DisableJetStreamBanner: true, Username: natsUser, Password: natsPassword}
	ns, err := server.NewServer(opts)
	require.NoError(t, err)
	ns.Start()
	require.True(t, ns.ReadyForConnections(10*time.Second))
	opts.Port = ns.Addr().(*net.TCPAddr).Port // the restarted server listens where the first did
	url := authURL(ns)
	db := filepath.Join(t.TempDir(), "siem.db")
	in := startInstance(t, service.Config{DB: db, NATS: url, PublishTimeout: 500 * time.Millisecond})
	key := in.svc.DemoKey()
	body := ndjson(`{"type":"t","severity":3,"message":"no ref 1"}`, `{"type":"t","severity":3,"message":"no ref 2"}`)
	code, _ := getStatus(t, in.url+"/readyz")
	assert.Equal(t, http.StatusOK, code, "ready with NATS up")

	ns.Shutdown()
	ns.WaitForShutdown()
	code, text := getStatus(t, in.url+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code, "not ready with NATS down")
	assert.Contains(t, text, "NATS connection")
	req, err := http.NewRequest(http.MethodPost, in.url+"/events", strings.NewReader(body))
	require.NoError(t, err)
	req.Header = withKey(nil, key)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, "2", res.Header.Get("Retry-After"))

	ns2, err := server.NewServer(opts)
	require.NoError(t, err)
	ns2.Start()
	require.True(t, ns2.ReadyForConnections(10*time.Second))
	t.Cleanup(func() { ns2.Shutdown(); ns2.WaitForShutdown() })
	var p published
	for deadline := time.Now().Add(20 * time.Second); ; {
		p, err = in.post(key, body)
		require.NoError(t, err)
		if p.code == http.StatusAccepted {
			break
		}
		require.Equal(t, http.StatusServiceUnavailable, p.code, p.text)
		require.True(t, time.Now().Before(deadline), "NATS back: the retry is taken within 20 s")
	}
	for _, r := range p.results {
		assert.Contains(t, []string{service.StatusQueued, service.StatusRejected}, r.Status, r.Reason)
		assert.True(t, strings.HasPrefix(r.Ref, "~"), "a derived ref: %q", r.Ref)
	}
	// Sent once more: both are duplicates now.
	again, err := in.post(key, body)
	require.NoError(t, err)
	for _, r := range again.results {
		assert.Equal(t, service.StatusRejected, r.Status)
	}
	dbh := openDB(t, db)
	waitStored(t, dbh, 2, 15*time.Second)
	require.NoError(t, in.stop())
	assert.Len(t, storedUIDs(t, dbh), 2, "each event stored once")
}

// getStatus returns the status code and body of a GET.
func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	var b strings.Builder
	_, err = io.Copy(&b, res.Body)
	require.NoError(t, err)
	return res.StatusCode, b.String()
}

// In JetStream mode a retried ref raises one alert too, whether the stream drops the retry (within
// its duplicate window) or the retry comes after the window, as a new message: persist then
// rejects it as a duplicate ref and writes no alert.
func TestJetStreamRetriedRefAlertsOnce(t *testing.T) {
	ns := startNATS(t)
	_, js := connectJS(t, authURL(ns))
	db := filepath.Join(t.TempDir(), "siem.db")
	first := startInstance(t, service.Config{DB: db, NATS: authURL(ns)})
	key := first.svc.DemoKey()
	require.NoError(t, first.stop())
	// A short duplicate window, so that a retry after it comes in the test's time.
	stream, err := js.Stream(t.Context(), service.DefaultStream)
	require.NoError(t, err)
	sc := stream.CachedInfo().Config
	sc.Duplicates = 200 * time.Millisecond
	_, err = js.UpdateStream(t.Context(), sc)
	require.NoError(t, err)

	f := newFakeSMTP(t, smtpRecord)
	in := startInstance(t, service.Config{DB: db, NATS: authURL(ns), AlertThreshold: 8, SMTP: mailTo(f)})
	body := ndjson(event("r", 9, "first"))
	p, err := in.post(key, body)
	require.NoError(t, err)
	uid := p.queued(t)[0]
	again, err := in.post(key, body)
	require.NoError(t, err)
	require.Equal(t, service.StatusRejected, again.results[0].Status, "within the window: the stream's duplicate")

	// Sent again until the window has passed: the stream then takes it, as a new message.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var rejected int64 // before the post that is queued
	for deadline := time.After(10 * time.Second); ; {
		rejected = in.svc.Stats().Statuses[service.StatusRejected]
		p, err := in.post(key, body)
		require.NoError(t, err)
		if p.results[0].Status == service.StatusQueued {
			break
		}
		require.Equal(t, service.StatusRejected, p.results[0].Status, p.results[0].Reason)
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("the stream still drops the retry 10 s later")
		}
	}
	// The stream's duplicates are counted rejected at intake; the feed runs the first copy and
	// the retry past the window, which persist rejects.
	require.Eventually(t, func() bool { return in.svc.Stats().Stream.Processed == 2 }, 10*time.Second, 5*time.Millisecond,
		"the first copy and the retry past the window processed")
	assert.Equal(t, rejected+1, in.svc.Stats().Statuses[service.StatusRejected], "the retry past the window rejected")
	last, err := in.post(key, ndjson(event("s", 9, "last")))
	require.NoError(t, err)
	lastUID := last.queued(t)[0]

	var mails []string
	for {
		m := nextMail(t, f, 20*time.Second)
		mails = append(mails, m)
		if strings.Contains(m, lastUID) {
			break
		}
	}
	assert.Len(t, mails, 2, "one mail for r, one for s")
	assert.Contains(t, mails[0], uid)
	dbh := openDB(t, db)
	assert.Equal(t, 2, storedCount(t, dbh, `SELECT COUNT(*) FROM alerts`), "one alert row each")
	assert.Equal(t, 2, storedCount(t, dbh, `SELECT COUNT(*) FROM events`))
	require.NoError(t, in.stop())
}
