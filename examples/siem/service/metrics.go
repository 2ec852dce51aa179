package service

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/stagecoach-go/stagecoach/fsm"
	stageprom "github.com/stagecoach-go/stagecoach/prometheus"
)

// metrics counts what the service does, for GET /metrics (Prometheus, on the service's own
// registry) and GET /api/stats (the dashboard's JSON). The stage durations and outcomes and the
// router's counters are the prometheus module's (stagecoach_stage_*, stagecoach_router_*, with
// machine and router "siem"); the rest are the service's own.
type metrics struct {
	reg      *prometheus.Registry
	prom     *stageprom.Collector
	stageObs fsm.Observer[State] // the prometheus module's hooks: stage duration and outcome
	events   *prometheus.CounterVec
	stage    [5]stageCounts
	levels   [4]atomic.Int64
	status   map[string]*atomic.Int64
	batches  prometheus.Histogram // writes per commit, in the Batch SQLite mode
}

type stageCounts struct {
	ran, failed, rejected atomic.Int64
	nanos                 atomic.Int64
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "siem_events_total", Help: "Events by final status.",
		}, []string{"status"}),
		status: map[string]*atomic.Int64{
			StatusAccepted: new(atomic.Int64), StatusRejected: new(atomic.Int64), StatusFailed: new(atomic.Int64),
			StatusUnknown: new(atomic.Int64),
		},
	}
	for _, st := range []string{StatusAccepted, StatusRejected, StatusFailed, StatusUnknown} {
		m.events.WithLabelValues(st) // export zeros from the start
	}
	m.batches = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "siem_sqlite_batch_writes",
		Help:    "Writes (events and alerts) per SQLite commit, in the batch write mode.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 9),
	})
	m.reg.MustRegister(m.events, m.batches, collectors.NewGoCollector())
	var err error
	if m.prom, err = stageprom.New(m.reg); err != nil {
		panic(err) // a new registry: nothing can clash
	}
	if m.stageObs, err = stageprom.NewMachine[State, *Event](m.prom, machineName).Observer(); err != nil {
		panic(err) // a new Collector: nothing attached yet
	}
	return m
}

// observeRouter reports r's counters under the router label "siem" (stagecoach_router_*).
func (m *metrics) observeRouter(r stageprom.Router) {
	if _, err := m.prom.ObserveRouter(machineName, r); err != nil {
		panic(err) // one router a Service: an error here is a bug
	}
}

func stageIndex(s State) int {
	for i, st := range Stages {
		if st == s {
			return i
		}
	}
	return -1
}

// leave is the machine's Observer.Leave hook (and the pipe design's equivalent): the dashboard's
// counts, then the prometheus module's.
func (m *metrics) leave(ctx context.Context, state, next State, took time.Duration, err error) {
	m.stageObs.Leave(ctx, state, next, took, err)
	i := stageIndex(state)
	if i < 0 {
		return
	}
	c := &m.stage[i]
	c.ran.Add(1)
	c.nanos.Add(int64(took))
	switch {
	case err != nil:
		c.failed.Add(1)
	case next == Rejected:
		c.rejected.Add(1)
	}
}

// result counts one event's final status.
func (m *metrics) result(r Result, level string) {
	m.events.WithLabelValues(r.Status).Inc()
	m.status[r.Status].Add(1)
	if r.Status == StatusAccepted {
		for i, l := range Levels {
			if l == level {
				m.levels[i].Add(1)
			}
		}
	}
}

// Stats is the JSON of GET /api/stats, which the dashboard polls.
type Stats struct {
	Design   string           `json:"design"`
	Account  string           `json:"account,omitempty"` // GET /api/stats: the viewer's account
	Stages   []StageStats     `json:"stages"`
	Levels   map[string]int64 `json:"levels"` // GET /api/stats: the account's stored events; Stats: accepted by this instance
	Statuses map[string]int64 `json:"statuses"`
	Clients  int              `json:"clients"`
	Dropped  int64            `json:"dropped_clients"`
	Stream   *StreamStats     `json:"stream,omitempty"` // JetStream mode only
}

// StageStats are one stage's counts since start.
type StageStats struct {
	Name     string  `json:"name"`
	Ran      int64   `json:"ran"`
	Failed   int64   `json:"failed"`
	Rejected int64   `json:"rejected"`
	AvgMicro float64 `json:"avg_us"`
}

func (m *metrics) snapshot() Stats {
	st := Stats{Levels: map[string]int64{}, Statuses: map[string]int64{}}
	for i, s := range Stages {
		c := &m.stage[i]
		ss := StageStats{Name: string(s), Ran: c.ran.Load(), Failed: c.failed.Load(), Rejected: c.rejected.Load()}
		if ss.Ran > 0 {
			ss.AvgMicro = float64(c.nanos.Load()) / float64(ss.Ran) / 1e3
		}
		st.Stages = append(st.Stages, ss)
	}
	for i, l := range Levels {
		st.Levels[l] = m.levels[i].Load()
	}
	for k, v := range m.status {
		st.Statuses[k] = v.Load()
	}
	return st
}
