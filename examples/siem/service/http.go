package service

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stagecoach-go/stagecoach/fsm"
)

//go:embed web
var webFiles embed.FS

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	web, _ := fs.Sub(webFiles, "web") // "web" is embedded above: Sub cannot fail
	mux.Handle("GET /", http.FileServerFS(web))
	mux.HandleFunc("POST /events", s.handleEvents)
	mux.HandleFunc("GET /ws", s.handleWS)
	mux.HandleFunc("GET /api/stats", s.handleStats)
	mux.HandleFunc("GET /api/events", s.handleLatest)
	mux.HandleFunc("POST /api/session", s.handleSession)
	mux.HandleFunc("DELETE /api/session", s.handleEndSession)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return s.checkHost(mux)
}

// checkHost refuses a request whose Host is not one of the service's own addresses (421), so
// that a page of another site whose name was made to resolve to this address (DNS rebinding)
// reaches nothing, the websocket's Origin check included, which compares with Host. The hosts
// are Config.Hosts and the address Serve listens on (with localhost for a loopback address, and
// every loopback name for an unspecified one); a Handler mounted elsewhere checks Config.Hosts
// only, and none at all if it is empty (the check is then the mounting server's).
func (s *Service) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hosts := s.hosts.Load(); hosts != nil && !(*hosts)[strings.ToLower(r.Host)] {
			http.Error(w, fmt.Sprintf("unknown host %q", r.Host), http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// handleWS is GET /ws: the websocket of the viewer's account's events.
func (s *Service) handleWS(w http.ResponseWriter, r *http.Request) {
	a, err := s.viewer(r)
	if s.authError(w, err) {
		return
	}
	s.hub.serveWS(w, r, a.ID)
}

// handleReady is GET /readyz: 200 "ready" when the service can take events now (the database
// answers; in JetStream mode, the NATS connection is up and the feed runs), 503 with the reason
// otherwise. GET /healthz says only that the process serves HTTP.
func (s *Service) handleReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.ready(r.Context()); err != nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

func (s *Service) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.store.r.PingContext(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if s.stream != nil {
		return s.stream.ready()
	}
	return nil
}

// handleLatest is GET /api/events: the viewer's account's latest stored events, newest first
// (?limit=, 25 by default, at most 100), for the dashboard to show when it opens.
func (s *Service) handleLatest(w http.ResponseWriter, r *http.Request) {
	a, err := s.viewer(r)
	if s.authError(w, err) {
		return
	}
	limit := 25
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			http.Error(w, fmt.Sprintf("limit %q: want 1 to 100", v), http.StatusBadRequest)
			return
		}
		limit = n
	}
	views, err := s.store.latest(r.Context(), a.ID, limit)
	if err != nil {
		s.cfg.Logger.Error("latest events", "err", err)
		http.Error(w, "cannot read events now", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(views)
}

// handleEvents is POST /events. The whole request is checked before any event runs (401, 403,
// 400: nothing of it is persisted); then one NDJSON Result line per event is streamed back in
// order, each as soon as it and the events before it are done.
func (s *Service) handleEvents(w http.ResponseWriter, r *http.Request) {
	acct, err := s.store.authenticate(r.Context(), r.Header.Get("Authorization"))
	if s.authError(w, err) {
		return
	}
	now := s.cfg.Now().UTC()
	ins, err := ParseEvents(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody), s.cfg.MaxEvents, now)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("body larger than %d bytes", tooBig.Limit), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	refs := deriveRefs(ins)
	evs := make([]*Event, len(ins))
	for i, in := range ins {
		evs[i] = newEvent(i, acct.ID, in, refs[i], now)
	}
	if s.stream != nil {
		s.publishEvents(w, r, evs)
		return
	}
	// Streaming may take long for a big request: no server-wide write timeout, one per request.
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Now().Add(2 * time.Minute))
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	s.design.process(r.Context(), evs, func(e *Event, err error) {
		res := result(e, err)
		s.metrics.result(res, e.Level)
		enc.Encode(res) // a client gone away is seen by the request's context
		rc.Flush()
	})
}

// newEvent makes the event of a checked input, with its ref (given or derived) and the time the
// request was received.
func newEvent(i int, accountID int64, in Input, ref string, received time.Time) *Event {
	e := &Event{Index: i, AccountID: accountID, Ref: ref, Source: in.Source, Type: in.Type,
		Severity: *in.Severity, Message: in.Message, ReceivedAt: received}
	if in.Time != nil {
		e.OccurredAt = in.Time.UTC()
	}
	if e.Source == "" {
		e.Source = "api"
	}
	return e
}

// result is the status line of an event the design is done with.
func result(e *Event, err error) Result {
	r := Result{Index: e.Index, Ref: e.Ref}
	var se *fsm.StateError[State]
	switch {
	case errors.Is(err, errMaybeStored):
		r.Status, r.Reason = StatusUnknown, err.Error()
	case errors.As(err, &se):
		r.Status, r.Reason = StatusFailed, fmt.Sprintf("stage %s: %v", se.State, se.Err)
	case err != nil:
		r.Status, r.Reason = StatusFailed, err.Error()
	case e.Rejected():
		r.Status, r.Reason = StatusRejected, e.Reason
	default:
		r.Status, r.UID = StatusAccepted, e.UID
	}
	return r
}

// handleStats is GET /api/stats: the viewer's account's stored events by level (from the
// database, so the dashboard's counts are the account's whole history), and the instance's own
// counts since it started (statuses, stages, clients, the stream's), which carry no event.
func (s *Service) handleStats(w http.ResponseWriter, r *http.Request) {
	a, err := s.viewer(r)
	if s.authError(w, err) {
		return
	}
	st := s.Stats()
	st.Account = a.Name
	if st.Levels, err = s.store.levelCounts(r.Context(), a.ID); err != nil {
		s.cfg.Logger.Error("stats", "err", err)
		http.Error(w, "cannot read counts now", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(st)
}

// Stats returns the counts GET /api/stats serves.
func (s *Service) Stats() Stats {
	st := s.metrics.snapshot()
	st.Design = s.cfg.Design
	st.Clients = s.hub.len()
	st.Dropped = s.hub.dropped.Load()
	if s.stream != nil {
		st.Stream = s.stream.stats()
	}
	return st
}

func (s *Service) observer() fsm.Observer[State] {
	return fsm.Observer[State]{Leave: s.metrics.leave}
}

func (s *Service) outboxCollectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "siem_alerts_sent_total", Help: "Alerts this instance delivered."},
			func() float64 { return float64(s.outbox.sent.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "siem_alerts_failed_total", Help: "Alert deliveries that failed, each to be tried again."},
			func() float64 { return float64(s.outbox.failed.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "siem_alerts_pending", Help: "Alerts in the outbox not delivered yet (all instances)."},
			func() float64 {
				n, err := s.store.pendingAlerts(context.Background())
				if err != nil {
					return -1
				}
				return float64(n)
			}),
	}
}

func (s *Service) hubCollectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "siem_ws_clients", Help: "Websocket clients connected."},
			func() float64 { return float64(s.hub.len()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "siem_ws_dropped_total", Help: "Websocket clients disconnected for falling behind."},
			func() float64 { return float64(s.hub.dropped.Load()) }),
	}
}
