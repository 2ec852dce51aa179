package service_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// mailTo configures the service to mail its alerts to f.
func mailTo(f *fakeSMTP) *service.SMTPNotifier {
	return &service.SMTPNotifier{Addr: f.addr, From: "siem@localhost", To: []string{"soc@localhost"}}
}

// nextMail waits for the next recorded mail, for at most d.
func nextMail(t *testing.T, f *fakeSMTP, d time.Duration) string {
	t.Helper()
	select {
	case m := <-f.mails:
		return m
	case <-time.After(d):
		t.Fatalf("no mail within %v", d)
		return ""
	}
}

// With the mail server refusing every connection, events are accepted and stored all the same;
// once it is back, every alert is mailed, once.
func TestMailOutageDelaysMailNotEvents(t *testing.T) {
	for _, design := range designs {
		t.Run(design, func(t *testing.T) {
			f := newFakeSMTP(t, smtpRefuse)
			e := start(t, service.Config{Design: design, AlertThreshold: 8, SMTP: mailTo(f),
				AlertRetry: time.Millisecond, AlertRetryMax: 20 * time.Millisecond})
			code, res, text := e.post(t, e.key, ndjson(event("c1", 9, "one"), event("l1", 2, "low"),
				event("c2", 10, "two"), event("c3", 8, "three")))
			require.Equal(t, http.StatusOK, code, text)
			uids := map[string]bool{}
			for _, r := range res {
				require.Equal(t, service.StatusAccepted, r.Status, "event %s: %s", r.Ref, r.Reason)
				if r.Ref != "l1" {
					uids[r.UID] = true
				}
			}
			assert.Equal(t, 4, e.count(t, `SELECT COUNT(*) FROM events`), "every event stored while mail is down")
			for range 3 { // the sender keeps trying
				select {
				case <-f.refused:
				case <-time.After(10 * time.Second):
					t.Fatal("the sender did not retry within 10 s")
				}
			}
			_, metrics := get(t, e.url+"/metrics")
			assert.NotContains(t, metrics, "siem_alerts_failed_total 0\n", "each failed attempt is counted")
			assert.Contains(t, metrics, "siem_alerts_pending 3\n")
			f.setMode(smtpRecord)
			got := map[string]int{}
			for range len(uids) {
				m := nextMail(t, f, 20*time.Second)
				for uid := range uids {
					if strings.Contains(m, uid) {
						got[uid]++
					}
				}
			}
			for uid := range uids {
				assert.Equal(t, 1, got[uid], "alert of %s mailed once", uid)
			}
		})
	}
}

// A mail server that accepts connections and never answers does not hold up events, of any
// severity: with more alerting events than the design has workers, low-severity events posted
// after them are answered all the same; and the service stops within its shutdown deadline, each
// abandoned alert left in the outbox for the next start.
func TestHangingMailServerStallsNothing(t *testing.T) {
	const workers, critical = 2, 20
	for _, design := range designs {
		t.Run(design, func(t *testing.T) {
			f := newFakeSMTP(t, smtpHang)
			cfg := service.Config{Design: design, Workers: workers, AlertThreshold: 8, SMTP: mailTo(f)}
			cfg.DB = t.TempDir() + "/siem.db"
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			svc, err := service.New(ctx, cfg)
			require.NoError(t, err)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			served := make(chan error, 1)
			go func() { served <- svc.Serve(ctx, ln) }()
			e := &env{svc: svc, url: "http://" + ln.Addr().String(), key: svc.DemoKey(), db: cfg.DB}

			var crit, low []string
			for i := range critical {
				crit = append(crit, event(fmt.Sprintf("crit%d", i), 9+i%2, "root shell"))
				low = append(low, event(fmt.Sprintf("low%d", i), i%4, "ping"))
			}
			client := &http.Client{Timeout: 5 * time.Second}
			for i, body := range []string{ndjson(crit...), ndjson(low...)} {
				req, err := http.NewRequest(http.MethodPost, e.url+"/events", strings.NewReader(body))
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer "+e.key)
				res, err := client.Do(req)
				require.NoError(t, err, "request %d answered within 5 s while the mail server hangs", i)
				var n int
				for next := jsonLines(res.Body); ; n++ {
					r, err := next()
					if err == io.EOF {
						break
					}
					require.NoError(t, err)
					assert.Equal(t, service.StatusAccepted, r.Status, "request %d, event %d: %s", i, r.Index, r.Reason)
				}
				res.Body.Close()
				require.Equal(t, http.StatusOK, res.StatusCode)
				assert.Equal(t, critical, n, "request %d: every event answered", i)
			}
			select {
			case <-f.hung:
			case <-time.After(10 * time.Second):
				t.Fatal("the sender did not connect to the mail server within 10 s")
			}
			stopped := time.Now()
			cancel()
			select {
			case err := <-served:
				require.NoError(t, err, "a clean stop, within Serve's shutdown deadline")
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not return within 10 s of its context's end, with the mail server hanging")
			}
			t.Logf("stopped in %v", time.Since(stopped))
			assert.Equal(t, 2*critical, e.count(t, `SELECT COUNT(*) FROM events`))
			assert.Equal(t, critical, e.count(t, `SELECT COUNT(*) FROM alerts WHERE sent_at IS NULL AND lease_until = 0 AND attempts = 0`),
				"every alert waits for the next start, not leased, the abandoned attempt not counted")
		})
	}
}

// A retry of a stored ref raises no second alert, however many retries there are and whether
// they come one at a time or at once: the sender mails each alert in order, so once the last
// event's mail has come, a mail for any retry would have come before it.
func TestRetriedRefAlertsOnce(t *testing.T) {
	const retries = 8
	for _, design := range designs {
		t.Run(design, func(t *testing.T) {
			f := newFakeSMTP(t, smtpRecord)
			e := start(t, service.Config{Design: design, AlertThreshold: 8, SMTP: mailTo(f)})
			_, first, _ := e.post(t, e.key, ndjson(event("r", 9, "first")))
			require.Equal(t, service.StatusAccepted, first[0].Status)
			_, again, _ := e.post(t, e.key, ndjson(event("r", 9, "first")))
			require.Equal(t, service.StatusRejected, again[0].Status)
			var wg sync.WaitGroup
			statuses := make([]string, retries)
			for i := range retries { // at once, and with a new ref among them
				wg.Go(func() {
					_, res, _ := e.post(t, e.key, ndjson(event("r", 9, "first"), event("q", 10, "second")))
					statuses[i] = res[0].Status + "," + res[1].Status
				})
			}
			wg.Wait()
			accepted := 0
			for _, s := range statuses {
				switch s {
				case service.StatusRejected + "," + service.StatusAccepted:
					accepted++
				case service.StatusRejected + "," + service.StatusRejected:
				default:
					t.Errorf("statuses %s, want r rejected, q accepted once", s)
				}
			}
			assert.Equal(t, 1, accepted, "q accepted once among the concurrent retries")
			_, last, _ := e.post(t, e.key, ndjson(event("s", 9, "last")))
			require.Equal(t, service.StatusAccepted, last[0].Status)

			var mails []string
			for {
				m := nextMail(t, f, 20*time.Second)
				mails = append(mails, m)
				if strings.Contains(m, last[0].UID) {
					break
				}
			}
			assert.Len(t, mails, 3, "one mail each for r, q and s")
			assert.Contains(t, mails[0], first[0].UID)
			assert.Equal(t, 3, e.count(t, `SELECT COUNT(*) FROM alerts`), "one alert row each")
		})
	}
}

// No field of an event, nor the account's name, reaches a mail header: a CR LF in an event's
// field is refused; an account whose name holds a CR LF and a header (written to the database
// past CreateAccount's checks), and an event whose every field looks like a header, give a mail that has
// exactly the headers the service writes, with the subject encoded.
func TestMailHeadersFromNoField(t *testing.T) {
	f := newFakeSMTP(t, smtpRecord)
	e := start(t, service.Config{AlertThreshold: 8, SMTP: mailTo(f)})
	code, _, text := e.post(t, e.key, ndjson(`{"ref":"inj","type":"x\r\nBcc: victim@example.com","severity":9,"message":"m"}`))
	assert.Equal(t, http.StatusBadRequest, code, "a CR LF in type is refused")
	assert.Contains(t, text, `field "type"`)

	// CreateAccount refuses such a name (TestCreateAccountChecksNames): this account is written
	// to the database directly, as by a tool of the operator's, or before the check was there.
	db, err := sql.Open("sqlite", "file:"+e.db+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer db.Close()
	res, err := db.Exec(`INSERT INTO accounts (name, org, may_report, created_at) VALUES (?, ?, 1, ?)`,
		"ops\r\nBcc: victim@example.com", "Org\r\nFrom: ceo@example.com", time.Now().UTC().Format(time.RFC3339Nano))
	require.NoError(t, err)
	id, err := res.LastInsertId()
	require.NoError(t, err)
	evil, err := e.svc.NewKey(context.Background(), id)
	require.NoError(t, err)
	for _, tt := range []struct {
		name, key, body, subject string
	}{
		{"UTF-8", e.key, `{"ref":"utf","type":"connexion échouée","severity":9,"message":"Zoë: 5 échecs"}`,
			"[SIEM critical] connexion échouée from demo"},
		{"header-like fields", e.key,
			`{"ref":"Bcc: a@example.com","source":"To: b@example.com","type":"Subject: =?utf-8?q?x?= Bcc: c@example.com","severity":10,"message":"From: d@example.com Content-Type: text/html"}`,
			"[SIEM critical] Subject: =?utf-8?q?x?= Bcc: c@example.com from demo"},
		{"encoded word in type", e.key, `{"ref":"ew","type":"=?utf-8?q?evil=E2=80=AEexe.txt?=","severity":9,"message":"m"}`,
			"[SIEM critical] =?utf-8?q?evil=E2=80=AEexe.txt?= from demo"},
		{"account name with CR LF", evil, `{"ref":"acct","type":"t","severity":9,"message":"m"}`,
			"[SIEM critical] t from ops\r\nBcc: victim@example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, res, text := e.post(t, tt.key, ndjson(tt.body))
			require.Equal(t, http.StatusOK, code, text)
			require.Equal(t, service.StatusAccepted, res[0].Status, res[0].Reason)
			raw := nextMail(t, f, 20*time.Second)
			m, err := mail.ReadMessage(strings.NewReader(raw))
			require.NoError(t, err, "the mail parses: %q", raw)
			var names []string
			for k := range m.Header {
				names = append(names, k)
			}
			assert.ElementsMatch(t, []string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version",
				"Content-Type", "Content-Transfer-Encoding"}, names, "the service's headers and no others: %q", raw)
			assert.Equal(t, "<siem@localhost>", m.Header.Get("From"))
			assert.Equal(t, "<soc@localhost>", m.Header.Get("To"))
			assert.Equal(t, `text/plain; charset="utf-8"`, m.Header.Get("Content-Type"))
			assert.Equal(t, "<alert-"+res[0].UID+"@siem.invalid>", m.Header.Get("Message-Id"))
			subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
			require.NoError(t, err)
			assert.Equal(t, tt.subject, subject)
			for _, r := range m.Header.Get("Subject") {
				assert.True(t, r > ' ' && r <= '~' || r == ' ', "the subject is encoded, plain ASCII: %q", m.Header.Get("Subject"))
			}
		})
	}
}

// Two services on one database (as JetStream mode's instances are) share one outbox: each
// claims an alert before it mails it, so with both senders busy at once every alert is mailed
// exactly once, by one of them.
func TestTwoSendersMailEachAlertOnce(t *testing.T) {
	const perService = 40
	f := newFakeSMTP(t, smtpRecord)
	cfg := service.Config{AlertThreshold: 8, SMTP: mailTo(f)}
	a := start(t, cfg)
	cfg.DB = a.db
	b := startOn(t, cfg)
	b.key = a.key
	var wg sync.WaitGroup
	uids := make(chan string, 2*perService)
	for i, e := range []*env{a, b} {
		wg.Go(func() {
			for j := range perService {
				_, res, text := e.post(t, e.key, ndjson(event(fmt.Sprintf("s%d-%d", i, j), 8+j%3, "alert")))
				if assert.Len(t, res, 1, text) && assert.Equal(t, service.StatusAccepted, res[0].Status, res[0].Reason) {
					uids <- res[0].UID
				}
			}
		})
	}
	wg.Wait()
	close(uids)
	want := map[string]bool{}
	for uid := range uids {
		want[uid] = true
	}
	require.Len(t, want, 2*perService)
	got := map[string]int{}
	for range want {
		m := nextMail(t, f, 20*time.Second)
		for uid := range want {
			if strings.Contains(m, uid) {
				got[uid]++
			}
		}
	}
	require.Eventually(t, func() bool {
		return a.count(t, `SELECT COUNT(*) FROM alerts WHERE sent_at IS NOT NULL`) == 2*perService
	}, 10*time.Second, 10*time.Millisecond, "every alert marked sent")
	// Marked sent after its mail: no delivery is in flight any more, so any second mail is here.
	for len(f.mails) > 0 {
		m := <-f.mails
		for uid := range want {
			if strings.Contains(m, uid) {
				got[uid]++
			}
		}
	}
	for uid := range want {
		assert.Equal(t, 1, got[uid], "alert of %s mailed once", uid)
	}
}
