package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
	stageotel "github.com/stagecoach-go/stagecoach/otel"
)

// JetStream mode (Config.NATS): the names it uses on the server.
const (
	DefaultStream   = "SIEM_EVENTS"  // the events stream (Config.Stream)
	DefaultConsumer = "siem-workers" // the durable consumer every instance shares (Config.Consumer)

	// SubjectPrefix starts the subject of every event: SubjectPrefix + "<account id>". The
	// events stream captures SubjectPrefix + ">".
	SubjectPrefix = "siem.events."
	// DeadLetterSubject is where the feed publishes the events it gives up on; the stream
	// Config.Stream + "_DEAD" captures it.
	DeadLetterSubject = "siem.deadletter.events"
)

// How the stream, the consumer and the feed are set up when this service creates them.
const (
	dedupWindow   = 2 * time.Minute // the stream's Nats-Msg-Id window: a client's retries within it are dropped
	maxDeliver    = 5               // deliveries of a failing event before it is dead-lettered
	ackWait       = 30 * time.Second
	maxInFlight   = 512              // events one instance holds (the feed's MaxInFlight)
	maxAckPending = 4096             // for all instances: 2 × maxInFlight each, so four instances are kept busy
	drainTimeout  = 20 * time.Second // below Serve's 30 s for the whole shutdown
)

// streamMode is the JetStream mode: POST /events publishes every accepted event to the stream
// (publish.go), and a jetstream.Feed takes events from the shared durable consumer and runs them
// through the machine on a router keyed by account. Whichever instance takes an event runs it.
type streamMode struct {
	nc     *nats.Conn
	js     natsjs.JetStream
	r      *group.Router[int64, stageotel.Message[*Event]] // items carry their producer's span context
	feed   *jetstream.Feed[int64, stageotel.Message[*Event]]
	tr     *tracing
	log    *slog.Logger
	cancel context.CancelFunc

	publishWait time.Duration // longest wait for the stream's acknowledgement of an event
	done        chan struct{} // closed once the feed's Run has returned
	err         error         // Run's error, set before done is closed

	published, duplicates atomic.Int64
}

// RedactURL returns the NATS server URL(s) with any password replaced by "xxxxx", for logs.
func RedactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}

// startStream connects to the server, creates the streams and the consumer if they are missing,
// and starts the feed, whose items are reported to onResult once they ran through m, each in the
// spans of tr.
func startStream(ctx context.Context, cfg Config, tr *tracing, m *fsm.Machine[State, *Event], onResult func(*Event, error)) (*streamMode, error) {
	opts := []nats.Option{nats.Name("siem"), nats.MaxReconnects(-1),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			cfg.Logger.Warn("nats", "err", err)
		})}
	if cfg.NATSUser != "" {
		opts = append(opts, nats.UserInfo(cfg.NATSUser, cfg.NATSPassword))
	}
	nc, err := nats.Connect(cfg.NATS, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", RedactURL(cfg.NATS), err)
	}
	sm, err := newStreamMode(ctx, nc, cfg, tr, m, onResult)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return sm, nil
}

func newStreamMode(ctx context.Context, nc *nats.Conn, cfg Config, tr *tracing, m *fsm.Machine[State, *Event], onResult func(*Event, error)) (*streamMode, error) {
	js, err := natsjs.New(nc, natsjs.WithPublishAsyncTimeout(cfg.PublishTimeout))
	if err != nil {
		return nil, err
	}
	if err := ensureStreams(ctx, js, cfg.Stream, cfg.Consumer); err != nil {
		return nil, err
	}
	run := tr.do(m)
	work := stageotel.Work(tr.ms, func(ctx context.Context, e *Event) (*Event, error) {
		e, err := run(ctx, e)
		onResult(e, err)
		return e, err
	})
	sm := &streamMode{nc: nc, js: js, tr: tr, log: cfg.Logger, done: make(chan struct{}), publishWait: cfg.PublishTimeout,
		r: group.New[int64](work, group.Workers(cfg.Workers))}
	sm.feed, err = jetstream.New(ctx, js, cfg.Stream, cfg.Consumer, sm.r, stageotel.Decode(tr.ms, decoder(cfg.Now)),
		jetstream.DeadLetter(DeadLetterSubject), jetstream.MaxInFlight(maxInFlight),
		jetstream.DrainTimeout(drainTimeout),
		jetstream.OnError(func(err error) { cfg.Logger.Warn("stream feed", "err", err) }))
	if err != nil {
		_ = sm.r.Shutdown(ctx) // it has run nothing
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	sm.cancel = cancel
	go sm.run(runCtx)
	return sm, nil
}

// run runs the feed until close cancels ctx, or until it fails (the connection stayed lost, the
// consumer was deleted): Service.Serve then stops the service.
func (sm *streamMode) run(ctx context.Context) {
	defer close(sm.done)
	sm.err = sm.feed.Run(ctx)
	if sm.err != nil {
		sm.log.Error("stream feed stopped", "err", sm.err)
	}
}

// ensureStreams creates the events stream, the dead-letter stream and the durable consumer
// unless they exist. What exists is used as it is: its configuration is the operator's.
func ensureStreams(ctx context.Context, js natsjs.JetStream, stream, consumer string) error {
	for _, cfg := range []natsjs.StreamConfig{
		// WorkQueue: an acknowledged (or dead-lettered) event leaves the stream; the database
		// is the record.
		{Name: stream, Subjects: []string{SubjectPrefix + ">"}, Retention: natsjs.WorkQueuePolicy,
			Duplicates: dedupWindow, Storage: natsjs.FileStorage},
		{Name: stream + "_DEAD", Subjects: []string{DeadLetterSubject}, Storage: natsjs.FileStorage},
	} {
		_, err := js.Stream(ctx, cfg.Name)
		if errors.Is(err, natsjs.ErrStreamNotFound) {
			_, err = js.CreateStream(ctx, cfg)
		}
		if err != nil && !errors.Is(err, natsjs.ErrStreamNameAlreadyInUse) { // another instance won the race
			return fmt.Errorf("stream %s: %w", cfg.Name, err)
		}
	}
	_, err := js.Consumer(ctx, stream, consumer)
	if errors.Is(err, natsjs.ErrConsumerNotFound) {
		_, err = js.CreateConsumer(ctx, stream, natsjs.ConsumerConfig{
			Durable: consumer, AckPolicy: natsjs.AckExplicitPolicy, AckWait: ackWait,
			MaxDeliver: maxDeliver, MaxAckPending: maxAckPending,
		})
	}
	if err != nil && !errors.Is(err, natsjs.ErrConsumerExists) {
		return fmt.Errorf("consumer %s on stream %s: %w", consumer, stream, err)
	}
	return nil
}

// close stops the feed gracefully (it finishes and acknowledges every event it holds), waits for
// the router's workers, sends what the connection still buffers and closes it.
func (sm *streamMode) close(ctx context.Context) error {
	sm.cancel()
	select {
	case <-sm.done:
	case <-ctx.Done():
		return fmt.Errorf("stream feed: %w", context.Cause(ctx))
	}
	err := sm.err
	if e := sm.r.Shutdown(ctx); e != nil {
		err = errors.Join(err, e)
	}
	if e := sm.nc.FlushTimeout(time.Second); e != nil && !errors.Is(e, nats.ErrConnectionClosed) {
		err = errors.Join(err, fmt.Errorf("flush acknowledgements: %w", e))
	}
	sm.nc.Close()
	return err
}

// ready says why the instance cannot take events now: the NATS connection is not up, or the
// feed has stopped.
func (sm *streamMode) ready() error {
	if st := sm.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("NATS connection %s", st)
	}
	select {
	case <-sm.done:
		return errors.New("stream feed stopped")
	default:
		return nil
	}
}

// stopped is closed when the feed's run has ended, by close or on its own.
func (sm *streamMode) stopped() <-chan struct{} { return sm.done }

func (sm *streamMode) collectors() []prometheus.Collector {
	stat := func(name, help string, f func(jetstream.Stats) int64, counter bool) prometheus.Collector {
		v := func() float64 { return float64(f(sm.feed.Stats())) }
		if counter {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, v)
		}
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, v)
	}
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "siem_stream_published_total", Help: "Events this instance published to the stream."},
			func() float64 { return float64(sm.published.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "siem_stream_duplicates_total", Help: "Events the stream dropped as retries of a ref (Nats-Msg-Id)."},
			func() float64 { return float64(sm.duplicates.Load()) }),
		stat("siem_stream_received_total", "Deliveries this instance took from the consumer, redeliveries included.", func(s jetstream.Stats) int64 { return s.Received }, true),
		stat("siem_stream_redelivered_total", "Of them, deliveries after an event's first.", func(s jetstream.Stats) int64 { return s.Redelivered }, true),
		stat("siem_stream_processed_total", "Events run through the stages and acknowledged.", func(s jetstream.Stats) int64 { return s.Processed }, true),
		stat("siem_stream_retried_total", "Events that failed and will be delivered again.", func(s jetstream.Stats) int64 { return s.Retried }, true),
		stat("siem_stream_dead_lettered_total", "Events given up on, published to "+DeadLetterSubject+".", func(s jetstream.Stats) int64 { return s.DeadLettered }, true),
		stat("siem_stream_handed_back_total", "Events handed back unfinished at a shutdown past its timeout.", func(s jetstream.Stats) int64 { return s.HandedBack }, true),
		stat("siem_stream_deferred_total", "Events sent back to be delivered later: their account held its share of the in-flight events.", func(s jetstream.Stats) int64 { return s.Deferred }, true),
		stat("siem_stream_dropped_total", "Events on their last delivery ended unprocessed: the dead-letter stream was unreachable.", func(s jetstream.Stats) int64 { return s.Dropped }, true),
		stat("siem_stream_held", "Events taken and not yet acknowledged.", func(s jetstream.Stats) int64 { return s.Held }, false),
	}
}

// StreamStats are the JetStream mode's counts since start, for GET /api/stats.
type StreamStats struct {
	Published    int64 `json:"published"`     // events this instance published
	Duplicates   int64 `json:"duplicates"`    // events the stream dropped as retries of a ref
	Received     int64 `json:"received"`      // deliveries it took, redeliveries included
	Redelivered  int64 `json:"redelivered"`   // of them, deliveries after an event's first
	Processed    int64 `json:"processed"`     // events it ran through the stages and acknowledged
	Retried      int64 `json:"retried"`       // failed, to be delivered again
	DeadLettered int64 `json:"dead_lettered"` // given up on
	HandedBack   int64 `json:"handed_back"`   // handed back unfinished at a shutdown past its timeout
	// Deferred are events sent back to be delivered later because their account already held its
	// share of the instance's in-flight events (the feed's KeyShare): one busy account cannot
	// take every slot.
	Deferred int64 `json:"deferred"`
	Dropped  int64 `json:"dropped"` // on their last delivery, ended unprocessed (dead-letter stream unreachable)
	Held     int64 `json:"held"`    // taken and not yet acknowledged
}

func (sm *streamMode) stats() *StreamStats {
	st := sm.feed.Stats()
	return &StreamStats{Published: sm.published.Load(), Duplicates: sm.duplicates.Load(), Received: st.Received, Redelivered: st.Redelivered,
		Processed: st.Processed, Retried: st.Retried, DeadLettered: st.DeadLettered,
		HandedBack: st.HandedBack, Deferred: st.Deferred, Dropped: st.Dropped, Held: st.Held}
}
