package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Config configures a Service. The zero value of every field but DB means its default.
type Config struct {
	DB             string        // SQLite file; created and migrated if missing (required)
	Design         string        // DesignGroup (default) or DesignPipe; DesignJetStream when NATS is set
	NATS           string        // JetStream mode: the NATS server URL(s), comma-separated; user:password@ in a URL is used
	NATSUser       string        // JetStream mode: the NATS user, when not in the URL
	NATSPassword   string        // JetStream mode: the NATS user's password
	PublishTimeout time.Duration // JetStream mode: longest wait for the stream to store an event (default 10 s)
	Stream         string        // JetStream mode: the events stream (default DefaultStream)
	Consumer       string        // JetStream mode: the durable consumer all instances share (default DefaultConsumer)
	Workers        int           // group: the router's workers (default 128); pipe: goroutines per stage (default 32)
	MaxWait        time.Duration // group: longest an event may wait for a worker; later it fails, expired, unstored (default 2 s; negative: no limit)
	AlertThreshold int           // severity at or above which an alert is sent: 0 means the default 8, a negative value 0 (every event)
	MaxBody        int64         // bytes of a POST /events body (default 1 MiB)
	MaxEvents      int           // events in one request (default 1000)
	SQLite         string        // Batch (default), OneWriter or WALPool
	Notifier       Notifier      // delivers the outbox's alerts (default: none; the sender logs each alert)
	SMTP           *SMTPNotifier // when set, alerts are mailed (after Notifier, if both are set)
	AlertRetry     time.Duration // delay before an alert's second attempt, doubling each attempt (default 1 s)
	AlertRetryMax  time.Duration // longest delay between two attempts of an alert (default 5 min)
	AlertTimeout   time.Duration // longest one delivery of an alert may take (default 1 min)
	ClientQueue    int           // messages a websocket client may have waiting (default 1024)
	ClientBuffer   int           // socket send buffer of a websocket client, bytes (default 256 KiB)
	WriteTimeout   time.Duration // longest write to one websocket client (default 10 s)
	Origins        []string      // websocket origins allowed besides the page's own host
	Hosts          []string      // Host header values served (host:port), besides the address Serve listens on
	Logger         *slog.Logger  // default: discard
	Now            func() time.Time
	TracerProvider trace.TracerProvider // spans of requests, runs and the stream (tracing.go); nil: none

	hook func(context.Context, *Event) error // tests only (export_test.go): runs first in enrich
}

func (c *Config) defaults() error {
	if c.DB == "" {
		return errors.New("service: Config.DB is empty")
	}
	if err := c.streamDefaults(); err != nil {
		return err
	}
	if c.Design == "" {
		c.Design = DesignGroup
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Workers == 0 { // stages wait on the database: many more goroutines than cores
		c.Workers = 128
		if c.Design == DesignPipe {
			c.Workers = 32 // a stage: 160 goroutines for the five
		}
	}
	switch {
	case c.MaxWait == 0:
		c.MaxWait = 2 * time.Second
	case c.MaxWait < 0:
		c.MaxWait = 0 // group.MaxWait(0): no limit
	}
	def(&c.AlertThreshold, 8)
	if c.AlertThreshold < 0 {
		c.AlertThreshold = 0
	}
	if c.AlertThreshold > MaxSeverity {
		return fmt.Errorf("service: AlertThreshold %d is above the highest severity, %d", c.AlertThreshold, MaxSeverity)
	}
	def(&c.MaxEvents, 1000)
	def(&c.ClientQueue, 1024)
	def(&c.ClientBuffer, 256<<10)
	if c.MaxBody == 0 {
		c.MaxBody = 1 << 20
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	durDef := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	durDef(&c.PublishTimeout, 10*time.Second)
	durDef(&c.AlertRetry, time.Second)
	durDef(&c.AlertRetryMax, 5*time.Minute)
	durDef(&c.AlertTimeout, time.Minute)
	if c.AlertRetry < 0 || c.AlertRetryMax < c.AlertRetry || c.AlertTimeout < 0 {
		return fmt.Errorf("service: AlertRetry %v, AlertRetryMax %v, AlertTimeout %v: want 0 < AlertRetry <= AlertRetryMax and AlertTimeout > 0",
			c.AlertRetry, c.AlertRetryMax, c.AlertTimeout)
	}
	if c.SMTP != nil {
		if err := c.SMTP.check(); err != nil {
			return fmt.Errorf("service: %w", err)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Workers < 0 || c.MaxEvents < 0 || c.MaxBody < 0 || c.ClientQueue < 0 {
		return fmt.Errorf("service: negative Workers %d, MaxEvents %d, MaxBody %d or ClientQueue %d",
			c.Workers, c.MaxEvents, c.MaxBody, c.ClientQueue)
	}
	return nil
}

// streamDefaults selects DesignJetStream when NATS is set and names its stream and consumer.
func (c *Config) streamDefaults() error {
	if c.NATS == "" {
		if c.Design == DesignJetStream {
			return errors.New("service: the jetstream design needs Config.NATS")
		}
		return nil
	}
	switch c.Design {
	case "", DesignGroup, DesignJetStream:
		c.Design = DesignJetStream
	default:
		return fmt.Errorf("service: design %q cannot run from a stream; JetStream mode runs the group design's machine", c.Design)
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Consumer == "" {
		c.Consumer = DefaultConsumer
	}
	return nil
}

// Service is the SIEM service: its database, its design running the five stages, its websocket
// hub and its HTTP handler. Build it with New, run it with Serve (or mount Handler and call
// Close).
type Service struct {
	cfg     Config
	store   *store
	hub     *hub
	metrics *metrics
	tracing *tracing
	design  design      // the in-process designs; nil in JetStream mode
	stream  *streamMode // JetStream mode; nil otherwise
	outbox  *sender
	stopOut context.CancelFunc // ends the sender
	outDone chan struct{}      // closed once the sender has ended
	demoKey string
	handler http.Handler
	hosts   atomic.Pointer[map[string]bool] // the Host values served; nil: any (checkHost)
}

// DemoAccount is the name of the account New creates on a fresh database.
const DemoAccount = "demo"

// New opens (creating and migrating if needed) the database, seeds the demo account on a fresh
// one, and starts the design's workers. Close (or Serve) releases them.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	m := newMetrics()
	st, err := openStore(ctx, cfg.DB, cfg.SQLite, func(n int) { m.batches.Observe(float64(n)) })
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, store: st, metrics: m, tracing: newTracing(cfg),
		hub: newHub(cfg.ClientQueue, cfg.ClientBuffer, cfg.WriteTimeout, cfg.Origins)}
	s.outbox = &sender{store: st, notifier: s.notifier(), log: cfg.Logger, now: cfg.Now,
		first: cfg.AlertRetry, max: cfg.AlertRetryMax, timeout: cfg.AlertTimeout, wakeup: make(chan struct{}, 1)}
	stg := &stages{store: st, outbox: s.outbox, hub: s.hub, threshold: cfg.AlertThreshold, now: cfg.Now, hook: cfg.hook}
	obs := s.tracing.observer(s.observer())
	switch cfg.Design {
	case DesignGroup:
		s.design = newGroupDesign(s.tracing.do(stg.machine(obs)), cfg.Workers, cfg.MaxWait)
	case DesignPipe:
		s.design = newPipeDesign(stg, obs, cfg.Workers)
	case DesignJetStream:
		s.stream, err = startStream(ctx, cfg, s.tracing, stg.machine(obs), func(e *Event, err error) {
			s.metrics.result(result(e, err), e.Level)
		})
		if err != nil {
			st.close()
			return nil, fmt.Errorf("service: jetstream mode: %w", err)
		}
	default:
		st.close()
		return nil, fmt.Errorf("service: unknown design %q, want %q or %q", cfg.Design, DesignGroup, DesignPipe)
	}
	if s.stream != nil {
		s.metrics.reg.MustRegister(s.stream.collectors()...)
		s.metrics.observeRouter(s.stream.r)
	} else {
		s.design.observe(s.metrics)
	}
	s.metrics.reg.MustRegister(s.hubCollectors()...)
	s.metrics.reg.MustRegister(s.outboxCollectors()...)
	// Seeded last, once everything else has started: a start that fails (NATS down, a bad
	// setting) leaves no demo account behind whose key nobody saw.
	if err := s.seed(ctx); err != nil {
		return nil, errors.Join(err, s.stopDesign(ctx), st.close())
	}
	if len(cfg.Hosts) > 0 {
		s.setHosts(cfg.Hosts)
	}
	s.handler = s.tracing.serve(s.routes())
	octx, cancel := context.WithCancel(context.Background())
	s.stopOut, s.outDone = cancel, make(chan struct{})
	go func() { defer close(s.outDone); s.outbox.run(octx) }()
	return s, nil
}

// notifier is what delivers the outbox's alerts: Config.Notifier, then Config.SMTP; nil if
// neither is set (the sender's log line is then the delivery).
func (s *Service) notifier() Notifier {
	switch n, m := s.cfg.Notifier, s.cfg.SMTP; {
	case n != nil && m != nil:
		return Notifiers{n, *m}
	case m != nil:
		return *m
	default:
		return n
	}
}

// seed creates the demo account and its key on a fresh database.
func (s *Service) seed(ctx context.Context) error {
	id, err := s.store.accountByName(ctx, DemoAccount)
	if err != nil || id != 0 {
		return err
	}
	id, created, err := s.store.seedAccount(ctx, DemoAccount, "Demo Org")
	if err != nil || !created { // another service seeded the shared file meanwhile
		return err
	}
	k := newKey()
	if err := s.store.addKey(ctx, k, id); err != nil {
		return err
	}
	s.demoKey = k.String()
	return nil
}

// DemoKey returns the demo account's API key if this Service created it, or "" if the database
// already had it: only the key's hash is stored, so the key is shown once.
func (s *Service) DemoKey() string { return s.demoKey }

// CreateAccount adds an account and returns a new API key for it. The name (required, at most
// MaxAccountName bytes) and the organisation (at most MaxOrg) meet the checks of an event's text
// fields: no control or bidirectional formatting character, since both are shown on the
// dashboard and in alert mails.
func (s *Service) CreateAccount(ctx context.Context, name, org string, mayReport bool) (string, error) {
	if err := errors.Join(checkText("name", name, MaxAccountName, true), checkText("org", org, MaxOrg, false)); err != nil {
		return "", fmt.Errorf("create account %q: %w", name, err)
	}
	id, err := s.store.createAccount(ctx, name, org, mayReport)
	if err != nil {
		return "", err
	}
	return s.NewKey(ctx, id)
}

// NewKey issues another API key for the account id.
func (s *Service) NewKey(ctx context.Context, accountID int64) (string, error) {
	k := newKey()
	if err := s.store.addKey(ctx, k, accountID); err != nil {
		return "", fmt.Errorf("issue key for account %d: %w", accountID, err)
	}
	return k.String(), nil
}

// DemoAccountID returns the demo account's id.
func (s *Service) DemoAccountID(ctx context.Context) (int64, error) {
	return s.store.accountByName(ctx, DemoAccount)
}

// SetMayReport allows or forbids the account to report.
func (s *Service) SetMayReport(ctx context.Context, accountID int64, may bool) error {
	return s.store.setMayReport(ctx, accountID, may)
}

// Handler returns the service's HTTP handler.
func (s *Service) Handler() http.Handler { return s.handler }

// Serve serves HTTP on ln until ctx ends, then shuts down gracefully (see Close). It returns
// the first error of serving or of shutting down.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	s.setHosts(append(listenHosts(ln.Addr()), s.cfg.Hosts...))
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-served:
	case <-ctx.Done():
	case <-s.streamStopped(): // the feed failed: stop, so that the instance is restarted
		err = errors.New("stream feed stopped")
	}
	stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if e := srv.Shutdown(stop); e != nil { // stop accepting, let every request finish
		err = errors.Join(err, fmt.Errorf("http shutdown: %w", e))
	}
	if e := <-served; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return errors.Join(err, s.Close(stop))
}

func (s *Service) setHosts(hosts []string) {
	m := map[string]bool{}
	for _, h := range hosts {
		m[strings.ToLower(h)] = true
	}
	s.hosts.Store(&m)
}

// listenHosts returns the Host values that name addr: itself, localhost for a loopback address,
// and every loopback name for an unspecified one (0.0.0.0, ::), whose other names only
// Config.Hosts can tell.
func listenHosts(addr net.Addr) []string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return []string{addr.String()}
	}
	port := strconv.Itoa(tcp.Port)
	hosts := []string{addr.String()}
	if tcp.IP.IsLoopback() || tcp.IP.IsUnspecified() {
		for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
			hosts = append(hosts, net.JoinHostPort(h, port))
		}
	}
	return hosts
}

// stopDesign stops the design or the stream mode of a service New could not finish.
func (s *Service) stopDesign(ctx context.Context) error {
	if s.stream != nil {
		return s.stream.close(ctx)
	}
	return s.design.close(ctx)
}

// streamStopped is closed when JetStream mode's feed has stopped; nil (never ready) in the
// other designs.
func (s *Service) streamStopped() <-chan struct{} {
	if s.stream == nil {
		return nil
	}
	return s.stream.stopped()
}

// Close disconnects the websocket clients, finishes every event the design accepted, waits for
// its workers and closes the database. Requests must have ended before (Serve sees to it). In
// JetStream mode it first stops taking events from the stream and finishes and acknowledges
// every event it took, then closes the websocket clients and the connection.
func (s *Service) Close(ctx context.Context) error {
	var err error
	if s.stream != nil {
		if e := s.stream.close(ctx); e != nil {
			err = fmt.Errorf("stop stream feed: %w", e)
		}
	}
	err = errors.Join(err, s.hub.close(ctx))
	if s.design != nil {
		if e := s.design.close(ctx); e != nil {
			err = errors.Join(err, fmt.Errorf("stop %s design: %w", s.cfg.Design, e))
		}
	}
	// The sender stops at once: a delivery in progress is abandoned (its connection closed) and
	// its alert stays pending for the next start, or for another instance.
	s.stopOut()
	select {
	case <-s.outDone:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("stop alert sender: %w", context.Cause(ctx)))
	}
	if e := s.store.close(); e != nil {
		err = errors.Join(err, fmt.Errorf("close database: %w", e))
	}
	return err
}
