package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/pipe"
)

// The designs (Config.Design).
const (
	DesignGroup = "group" // one group.Router running one fsm.Machine; a request group per request
	DesignPipe  = "pipe"  // one channel-per-stage pipe pipeline; a reply channel per event
	// DesignJetStream publishes each event to a NATS JetStream stream; every instance runs the
	// group design's machine on the events it takes from the shared consumer (Config.NATS).
	DesignJetStream = "jetstream"
)

// design runs the five stages for the whole service. process runs a request's events and calls
// emit exactly once for each, in request order, as soon as that event and the ones before it are
// done; close stops taking requests, finishes every event taken and waits for the workers.
type design interface {
	process(ctx context.Context, evs []*Event, emit func(*Event, error))
	close(ctx context.Context) error
	observe(m *metrics) // registers the design's metrics
}

// errStopped is the error of an event the service could not take because it is stopping.
var errStopped = errors.New("service is stopping")

// errMaybeStored marks the error of an event that may have been stored before it: its status is
// unknown, not failed.
var errMaybeStored = errors.New("the event may have been stored")

// groupDesign: one long-lived group.Router of workers running the machine; each request opens
// an ordered request group, so its results come back to it alone and in order.
type groupDesign struct {
	r       *group.Router[uint64, *Event]
	maxWait time.Duration
	next    atomic.Uint64
	opened  atomic.Int64
}

// newGroupDesign starts the router; work is the machine's run (tracing.do). An event not started
// within maxWait of its submission fails with group.ErrExpired (Config.MaxWait).
func newGroupDesign(work func(context.Context, *Event) (*Event, error), workers int, maxWait time.Duration) *groupDesign {
	return &groupDesign{r: group.New[uint64](work, group.Workers(workers)), maxWait: maxWait}
}

func (d *groupDesign) process(ctx context.Context, evs []*Event, emit func(*Event, error)) {
	// A request's events that have not started within maxWait of their submission fail with
	// group.ErrExpired instead of running late: under overload the service sheds the work that
	// has waited longest rather than let every answer grow late.
	g, err := d.r.Open(ctx, d.next.Add(1), group.Ordered(), group.MaxWait(d.maxWait))
	if err != nil {
		if errors.Is(err, group.ErrRouterClosed) {
			err = errStopped
		}
		for _, e := range evs {
			emit(e, err)
		}
		return
	}
	d.opened.Add(1)
	// Submit blocks while the group's window is full, and the window empties as results are
	// read: submit on a goroutine, read here.
	stopped := make(chan error, 1)
	go func() {
		defer g.Close()
		for _, e := range evs {
			if err := g.Submit(ctx, e); err != nil {
				stopped <- err
				return
			}
		}
		stopped <- nil
	}()
	n := 0
	for e, err := range g.Results() {
		emit(e, err)
		n++
	}
	if err := <-stopped; err != nil {
		for _, e := range evs[n:] { // never submitted: they get the reason why
			emit(e, fmt.Errorf("not submitted: %w", err))
		}
	}
}

func (d *groupDesign) close(ctx context.Context) error { return d.r.Shutdown(ctx) }

// observe reports the router's counters through the prometheus module (stagecoach_router_*,
// router "siem"), and the requests taken.
func (d *groupDesign) observe(m *metrics) {
	m.observeRouter(d.r)
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "siem_groups_opened_total", Help: "Request groups opened."},
		func() float64 { return float64(d.opened.Load()) }))
}

// job is an event in the pipe design, with its request's context and the reply channel (the
// "promise") the last stage answers on.
type job struct {
	ctx   context.Context
	e     *Event
	err   error
	reply chan *job
}

// pipeDesign: the design users write today. One pipeline for the whole service, a channel and
// a set of goroutines per stage; each event carries a reply channel back to its request. pipe
// fails the whole pipeline on a stage error, so every stage func is wrapped to turn an error or
// a panic into the event's own failure, and to pass along an event already done.
type pipeDesign struct {
	in        chan *job
	mu        sync.RWMutex
	closed    bool
	stopped   chan struct{} // closed once the pipeline has ended
	err       error         // the pipeline's error, set before stopped is closed
	submitted atomic.Int64
	opened    atomic.Int64
}

func newPipeDesign(st *stages, obs fsm.Observer[State], workers int) *pipeDesign {
	d := &pipeDesign{in: make(chan *job, workers), stopped: make(chan struct{})}
	p := pipe.New(context.Background())
	c := pipe.Generate(p, func(ctx context.Context, emit func(*job) bool) error {
		for {
			select {
			case j, ok := <-d.in:
				if !ok || !emit(j) { // in is closed by close
					return nil
				}
			case <-ctx.Done():
				return nil
			}
		}
	})
	for i, fn := range st.funcs() {
		c = pipe.Map(p, c, wrapStage(Stages[i], fn, obs), pipe.Workers(workers))
	}
	go func() {
		d.err = pipe.ForEach(p, c, func(_ context.Context, j *job) error {
			j.reply <- j // buffered: never blocks
			return nil
		})
		close(d.stopped)
	}()
	return d
}

// wrapStage adapts a stage func to the pipeline: skip an event already rejected or failed, run
// the func under the request's context, keep a panic or an error on the event.
func wrapStage(s State, fn func(context.Context, *Event) (*Event, error), obs fsm.Observer[State]) func(context.Context, *job) (*job, error) {
	return func(_ context.Context, j *job) (*job, error) {
		if j.err != nil || j.e.Rejected() {
			return j, nil
		}
		if err := context.Cause(j.ctx); err != nil {
			j.err = &fsm.StateError[State]{State: s, Err: err}
			return j, nil
		}
		start := time.Now()
		err := safeCall(j.ctx, fn, j.e)
		next := Done
		if err != nil {
			j.err = &fsm.StateError[State]{State: s, Err: err}
		} else if j.e.Rejected() {
			next = Rejected
		}
		if obs.Leave != nil {
			obs.Leave(j.ctx, s, next, time.Since(start), err)
		}
		return j, nil
	}
}

func safeCall(ctx context.Context, fn func(context.Context, *Event) (*Event, error), e *Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	_, err = fn(ctx, e)
	return err
}

func (d *pipeDesign) process(ctx context.Context, evs []*Event, emit func(*Event, error)) {
	d.opened.Add(1)
	jobs := make([]*job, len(evs))
	for i, e := range evs {
		jobs[i] = &job{ctx: ctx, e: e, reply: make(chan *job, 1)}
	}
	sent := make(chan int, 1)
	go func() { sent <- d.send(ctx, jobs) }()
	for i, j := range jobs {
		select {
		case <-j.reply:
			emit(j.e, j.err)
			continue
		case n := <-sent:
			sent <- n // keep it for the next turn
			if i >= n {
				emit(j.e, fmt.Errorf("not submitted: %w", errStopped))
				continue
			}
		case <-d.stopped:
		}
		select { // sent, or the pipeline ended: the reply may still have come
		case <-j.reply:
			emit(j.e, j.err)
		case <-d.stopped:
			emit(j.e, fmt.Errorf("pipeline ended before its answer (%w): %w", errMaybeStored, errStopped))
		}
	}
}

// send hands the jobs to the pipeline in order and returns how many it took.
func (d *pipeDesign) send(ctx context.Context, jobs []*job) int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return 0
	}
	for i, j := range jobs {
		select {
		case d.in <- j:
			d.submitted.Add(1)
		case <-ctx.Done():
			return i
		case <-d.stopped:
			return i
		}
	}
	return len(jobs)
}

func (d *pipeDesign) close(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.in)
	}
	d.mu.Unlock()
	select {
	case <-d.stopped:
		return d.err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// observe registers the pipe design's counts: it has no router for the prometheus module to read.
func (d *pipeDesign) observe(m *metrics) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "siem_pipe_submitted_total", Help: "Events handed to the pipeline."},
			func() float64 { return float64(d.submitted.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "siem_groups_opened_total", Help: "Requests taken."},
			func() float64 { return float64(d.opened.Load()) }),
	)
}
