package service_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

func TestEndToEnd(t *testing.T) {
	for _, design := range designs {
		t.Run(design, func(t *testing.T) {
			e := start(t, service.Config{Design: design, AlertThreshold: 8})
			clients := []*websocket.Conn{e.dial(t, nil), e.dial(t, nil)}

			const n = 30
			var evs []string
			wantAlerts := map[string]bool{} // refs at or above the threshold
			for i := range n {
				ref := fmt.Sprintf("e%d", i)
				evs = append(evs, event(ref, i%11, "message "+ref))
				if i%11 >= 8 {
					wantAlerts[ref] = true
				}
			}
			code, res, text := e.post(t, e.key, "["+strings.Join(evs, ",")+"]")
			require.Equal(t, http.StatusOK, code, text)
			require.Len(t, res, n)
			// The events of a request run concurrently: a duplicate goes in a later request so
			// that which copy is rejected is defined.
			code, dup, text := e.post(t, e.key, ndjson(event("e3", 1, "the same ref again")))
			require.Equal(t, http.StatusOK, code, text)
			res = append(res, dup...)

			accepted := map[string]string{} // uid -> ref
			for i, r := range res[:n] {
				assert.Equal(t, i, r.Index)
				assert.Equal(t, fmt.Sprintf("e%d", i), r.Ref)
				assert.Equal(t, service.StatusAccepted, r.Status, r.Reason)
				accepted[r.UID] = r.Ref
			}
			assert.Equal(t, service.Result{Index: 0, Ref: "e3", Status: service.StatusRejected, Reason: `duplicate ref "e3"`}, res[n])

			assert.Equal(t, n, e.count(t, `SELECT COUNT(*) FROM events`))
			assert.Equal(t, n, e.count(t, `SELECT COUNT(DISTINCT ref) FROM events WHERE ref LIKE 'e%'`))
			var alerted []string
			for _, uid := range e.strings(t, `SELECT event_uid FROM alerts`) {
				alerted = append(alerted, accepted[uid])
			}
			assert.ElementsMatch(t, keys(wantAlerts), alerted, "alerts fire at the threshold, and only there")

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for i, c := range clients {
				views, err := receive(ctx, c, n)
				require.NoError(t, err, "client %d", i)
				got := map[string]string{}
				for _, v := range views {
					got[v.UID] = v.Ref
				}
				assert.Equal(t, accepted, got, "client %d gets every accepted event", i)
			}
		})
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// holdHook, run in the enrich stage of every event, blocks the event whose message is "hold"
// until release is closed, fails the one whose message is "boom" and panics on "panic".
type holdHook struct {
	release chan struct{}
	holding chan struct{} // closed when the "hold" event starts waiting
	mu      sync.Mutex
	seen    []string
}

func (h *holdHook) hook(ctx context.Context, e *service.Event) error {
	switch e.Message {
	case "hold":
		close(h.holding)
		select {
		case <-h.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	case "boom":
		return errors.New("pager unreachable")
	case "panic":
		panic("notifier bug")
	}
	h.mu.Lock()
	h.seen = append(h.seen, e.Message)
	h.mu.Unlock()
	return nil
}

// The status of an event is streamed as soon as it is done, while later events still run.
func TestStreamsStatusesInOrderBeforeTheRequestIsDone(t *testing.T) {
	for _, design := range designs {
		t.Run(design, func(t *testing.T) {
			n := &holdHook{release: make(chan struct{}), holding: make(chan struct{})}
			cfg := service.Config{Design: design}
			service.SetHook(&cfg, n.hook)
			e := start(t, cfg)
			body := ndjson(event("a", 1, "first"), event("b", 1, "hold"), event("c", 1, "third"))
			req, err := http.NewRequest(http.MethodPost, e.url+"/events", strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+e.key)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)
			dec := jsonLines(res.Body)

			first, err := dec()
			require.NoError(t, err, "the first status arrives while the second event is held")
			assert.Equal(t, service.Result{Index: 0, Ref: "a", UID: first.UID, Status: service.StatusAccepted}, first)
			// The second event cannot end before release: the first line came before its end.
			// It may not have reached its enrich stage yet when the first line arrives (the events of a
			// request run concurrently), so wait for it to be held rather than expect it.
			select {
			case <-n.holding:
			case <-time.After(10 * time.Second):
				t.Fatal("the second event is not held within 10 s")
			}
			close(n.release)
			for i, ref := range []string{"b", "c"} {
				r, err := dec()
				require.NoError(t, err)
				assert.Equal(t, i+1, r.Index)
				assert.Equal(t, ref, r.Ref)
				assert.Equal(t, service.StatusAccepted, r.Status)
			}
		})
	}
}

// A stage failing on one event fails that event alone; a panic in a stage is that event's
// failure, and the service carries on.
func TestStageFailureTouchesOnlyItsEvent(t *testing.T) {
	for _, design := range designs {
		t.Run(design, func(t *testing.T) {
			n := &holdHook{release: make(chan struct{}), holding: make(chan struct{})}
			cfg := service.Config{Design: design}
			service.SetHook(&cfg, n.hook)
			e := start(t, cfg)
			code, res, text := e.post(t, e.key, ndjson(event("a", 9, "ok"), event("b", 9, "boom"),
				event("c", 1, "low"), event("d", 9, "panic"), event("e", 9, "fine")))
			require.Equal(t, http.StatusOK, code, text)
			require.Len(t, res, 5)
			statuses := make([]string, len(res))
			for i, r := range res {
				statuses[i] = r.Status
			}
			assert.Equal(t, []string{"accepted", "failed", "accepted", "failed", "accepted"}, statuses)
			assert.Equal(t, "stage enrich: pager unreachable", res[1].Reason)
			assert.Contains(t, res[3].Reason, "notifier bug")
			assert.ElementsMatch(t, []string{"a", "c", "e"}, e.strings(t, `SELECT ref FROM events`))

			code, res, text = e.post(t, e.key, ndjson(event("f", 1, "after the panic")))
			require.Equal(t, http.StatusOK, code, text)
			assert.Equal(t, service.StatusAccepted, res[0].Status)
		})
	}
}

func TestAccountDisabledAfterAuthentication(t *testing.T) {
	e := start(t, service.Config{})
	id, err := e.svc.DemoAccountID(context.Background())
	require.NoError(t, err)
	require.NoError(t, e.svc.SetMayReport(context.Background(), id, false))
	code, _, text := e.post(t, e.key, ndjson(event("a", 1, "x")))
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, "this account may not report events", text)
	require.NoError(t, e.svc.SetMayReport(context.Background(), id, true))
	code, res, text := e.post(t, e.key, ndjson(event("a", 1, "x")))
	require.Equal(t, http.StatusOK, code, text)
	assert.Equal(t, service.StatusAccepted, res[0].Status)
}

// An event of the group design that waits for a worker longer than Config.MaxWait fails, is
// never stored, and says why. A MaxWait of a nanosecond is shorter than any hand-over from the
// request to a worker: every event expires.
func TestGroupDesignShedsEventsThatWaitTooLong(t *testing.T) {
	e := start(t, service.Config{Design: service.DesignGroup, Workers: 1, MaxWait: time.Nanosecond})
	const n = 20
	var evs []string
	for i := range n {
		evs = append(evs, event(fmt.Sprintf("late%d", i), 9, "too late"))
	}
	code, res, text := e.post(t, e.key, ndjson(evs...))
	require.Equal(t, http.StatusOK, code, text)
	require.Len(t, res, n)
	for i, r := range res {
		assert.Equal(t, i, r.Index)
		assert.Equal(t, service.StatusFailed, r.Status, "event %d", i)
		assert.Contains(t, r.Reason, "expired before it started", "event %d", i)
	}
	assert.Zero(t, e.count(t, `SELECT COUNT(*) FROM events`), "an expired event is never stored")
	assert.Zero(t, e.count(t, `SELECT COUNT(*) FROM alerts`), "nor alerted")
}
