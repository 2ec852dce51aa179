package otel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// A MachineOption configures a [Machine].
type MachineOption interface{ applyMachine(*machineOptions) }

type machineOptions struct{ stageSpans bool }

type machineOption func(*machineOptions)

func (f machineOption) applyMachine(o *machineOptions) { f(o) }

// StageSpans makes each stage a child span of the run's span instead of an event on it. A child
// span costs about three times an event (see the package documentation) and, since an
// fsm.Observer cannot hand a context to the stage, the stage's own outgoing calls are still
// children of the run's span, not of the stage's.
func StageSpans() MachineOption {
	return machineOption(func(o *machineOptions) { o.stageSpans = true })
}

// Machine records the runs of one fsm.Machine: a span a run with an event (or a child span) a
// stage, and the stage duration histogram and stage items counter. Make it with [NewMachine],
// attach it to the machine's builder with [Machine.Attach] before Build, and run the built
// machine through [Machine.Do] (the work func to give pool or group) for the run spans; the
// metrics need Attach alone. It is safe for concurrent use.
type Machine[S comparable, T any] struct {
	t      *Telemetry
	name   string
	o      machineOptions
	states stateTable[S]

	spanStart []trace.SpanStartOption // of a run's span
	claimed   atomic.Bool
}

// NewMachine returns the adapter of a machine named name, which becomes the stagecoach.machine
// attribute of its series and the name of its run spans: give a constant, not a value per item.
//
// NewMachine panics if t is nil.
func NewMachine[S comparable, T any](t *Telemetry, name string, opts ...MachineOption) *Machine[S, T] {
	if t == nil {
		panic("otel: NewMachine: nil *Telemetry")
	}
	m := &Machine[S, T]{t: t, name: name}
	for _, o := range opts {
		o.applyMachine(&m.o)
	}
	m.states.make = m.newState
	m.spanStart = []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(KeyMachine.String(name)),
	}
	return m
}

// Attach sets m's hooks on b, followed by those of with (another adapter's, say), each called in
// turn. It returns an error wrapping [ErrAttached] if m is attached already (by Attach or
// [Machine.Observer]) or another Machine of the same name is.
//
// Attach panics if b is nil or already built (fsm's own panic).
func (m *Machine[S, T]) Attach(b *fsm.Builder[S, T], with ...fsm.Observer[S]) error {
	if b == nil {
		panic("otel: Attach: nil *fsm.Builder")
	}
	o, err := m.Observer()
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil { // Observe panics on a built builder: m stays free
			m.release()
			panic(p)
		}
	}()
	b.Observe(join(append([]fsm.Observer[S]{o}, with...)))
	return nil
}

// Observer returns m's hooks, for a builder whose hooks are set by hand or by another adapter's
// Attach. It counts as attaching m: it returns an error wrapping [ErrAttached] on a second call,
// after Attach, or if another Machine of the same name is attached.
func (m *Machine[S, T]) Observer() (fsm.Observer[S], error) {
	if !m.claimed.CompareAndSwap(false, true) {
		return fsm.Observer[S]{}, fmt.Errorf("%w: machine %q", ErrAttached, m.name)
	}
	if err := m.t.claim("machine", m.name, nil); err != nil {
		m.claimed.Store(false)
		return fsm.Observer[S]{}, err
	}
	if m.t.inst != nil {
		m.t.mu.Lock()
		m.t.machines = append(m.t.machines, m)
		m.t.mu.Unlock()
	}
	var o fsm.Observer[S]
	switch {
	case m.t.tracer != nil && m.o.stageSpans:
		o.Enter, o.Leave = m.enterSpan, m.leave
	case m.t.tracer != nil || m.t.inst != nil:
		o.Leave = m.leave
	}
	return o, nil
}

func (m *Machine[S, T]) release() {
	m.t.unclaim("machine", m.name, nil)
	m.claimed.Store(false)
}

// Do returns the work func that runs v through fm in a span named after m, child of the span in
// ctx, whose stagecoach.state attribute is the state the run ended in and whose status is Error,
// with the error recorded, when the run fails. With tracing off it returns fm.Do itself, which
// costs nothing more.
//
// Do panics if fm is nil.
func (m *Machine[S, T]) Do(fm *fsm.Machine[S, T]) func(context.Context, T) (T, error) {
	if fm == nil {
		panic("otel: Do: nil *fsm.Machine")
	}
	if m.t.tracer == nil {
		return fm.Do
	}
	return func(ctx context.Context, v T) (out T, err error) {
		ctx, span := m.t.tracer.Start(ctx, m.name, m.spanStart...)
		rc := &runContext{Context: ctx, span: span}
		defer rc.end()
		out, st, err := fm.Run(rc, v)
		rc.finish(m.states.get(st).attr, err)
		return out, err
	}
}

// runContext is the context a traced run passes its stages: the run's span, found by the hooks
// with one Value call, and the stage span open, if any. A run is on one goroutine, so its fields
// need no lock.
type runContext struct {
	context.Context
	span     trace.Span
	stage    trace.Span // StageSpans: the span of the stage running
	ended    bool
	finished bool // Run returned
}

type runKey struct{}

func (rc *runContext) Value(key any) any {
	if key == (runKey{}) {
		return rc
	}
	return rc.Context.Value(key)
}

func runOf(ctx context.Context) *runContext {
	rc, _ := ctx.Value(runKey{}).(*runContext)
	return rc
}

// finish sets the run's final state and error.
func (rc *runContext) finish(state attribute.KeyValue, err error) {
	rc.finished = true
	rc.span.SetAttributes(state)
	if err != nil {
		rc.span.RecordError(err)
		rc.span.SetStatus(codes.Error, err.Error())
	}
}

// end ends the run's spans, also when a stage called runtime.Goexit: then Run did not return
// and the run's span says so.
func (rc *runContext) end() {
	if !rc.finished {
		rc.span.RecordError(fsm.ErrGoexit)
		rc.span.SetStatus(codes.Error, fsm.ErrGoexit.Error())
	}
	if rc.stage != nil {
		rc.stage.End()
	}
	if !rc.ended {
		rc.ended = true
		rc.span.End()
	}
}

// enterSpan starts the child span of a stage.
func (m *Machine[S, T]) enterSpan(ctx context.Context, state S) {
	rc := runOf(ctx)
	if rc == nil {
		return
	}
	si := m.states.get(state)
	_, rc.stage = m.t.tracer.Start(rc.Context, si.name, si.spanStart...)
}

// observe reports the stage items counter of every state that has had an item of an outcome.
// An atomic addition a stage costs much less than a synchronous counter's Add, which the SDK
// resolves and aggregates at every call (BenchmarkHook: about a third of a stage's record).
func (m *Machine[S, T]) observe(ob metric.Observer, items metric.Int64ObservableCounter) {
	tab := m.states.m.Load()
	if tab == nil {
		return
	}
	for _, si := range *tab {
		for o := range nOutcomes {
			if n := si.items[o].Load(); n > 0 {
				ob.ObserveInt64(items, n, si.observe[o])
			}
		}
	}
}

// leave records a stage's duration and outcome, and its event or the end of its span.
func (m *Machine[S, T]) leave(ctx context.Context, state, next S, took time.Duration, err error) {
	si := m.states.get(state)
	out := outcomeOf(err)
	if in := m.t.inst; in != nil {
		in.stageDuration.Record(ctx, took.Seconds(), si.record...) // a slice made once: no allocation
		si.items[out].Add(1)
	}
	if m.t.tracer == nil {
		return
	}
	rc := runOf(ctx)
	if rc == nil {
		return
	}
	ns := m.states.get(next)
	if rc.stage != nil {
		sp := rc.stage
		rc.stage = nil
		sp.SetAttributes(ns.next, outcomes[out])
		if err != nil {
			sp.RecordError(err)
			sp.SetStatus(codes.Error, err.Error())
		}
		sp.End()
		return
	}
	rc.span.AddEvent(si.name, trace.WithAttributes(ns.next, outcomes[out], KeyDuration.Float64(took.Seconds())))
}

type outcome int

const (
	outcomeOK outcome = iota
	outcomeError
	outcomePanic
	nOutcomes
)

var outcomes = [nOutcomes]attribute.KeyValue{
	KeyOutcome.String("ok"), KeyOutcome.String("error"), KeyOutcome.String("panic"),
}

func outcomeOf(err error) outcome {
	if err == nil {
		return outcomeOK
	}
	return failure(err)
}

// failure is apart from outcomeOf so that the PanicError, which errors.As makes escape, is
// allocated on failures only.
func failure(err error) outcome {
	var pe *fsm.PanicError
	if errors.As(err, &pe) || errors.Is(err, fsm.ErrGoexit) {
		return outcomePanic
	}
	return outcomeError
}

// stateInfo is what the hooks need of a state, made once a state.
type stateInfo struct {
	name      string
	attr      attribute.KeyValue // stagecoach.state
	next      attribute.KeyValue // stagecoach.next_state
	record    []metric.RecordOption
	items     [nOutcomes]atomic.Int64         // the stage items counter, reported by the callback
	observe   [nOutcomes]metric.ObserveOption // its series' attributes
	spanStart []trace.SpanStartOption
}

func (m *Machine[S, T]) newState(s S) *stateInfo {
	name := fmt.Sprint(s)
	si := &stateInfo{name: name, attr: KeyState.String(name), next: KeyNext.String(name)}
	mach := KeyMachine.String(m.name)
	si.record = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(mach, si.attr))}
	for o := range nOutcomes {
		si.observe[o] = metric.WithAttributeSet(attribute.NewSet(mach, si.attr, outcomes[o]))
	}
	si.spanStart = []trace.SpanStartOption{trace.WithAttributes(mach, si.attr)}
	return si
}

// stateTable maps a state to its stateInfo. A machine has few states, all known once it has run
// each: reads load a map that is never written again; a miss copies it with the new state added,
// under mu, and publishes the copy.
type stateTable[S comparable] struct {
	m    atomic.Pointer[map[S]*stateInfo]
	mu   sync.Mutex
	make func(S) *stateInfo
}

func (t *stateTable[S]) get(s S) *stateInfo {
	if m := t.m.Load(); m != nil {
		if si, ok := (*m)[s]; ok {
			return si
		}
	}
	return t.add(s)
}

func (t *stateTable[S]) add(s S) *stateInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.m.Load()
	if old != nil {
		if si, ok := (*old)[s]; ok {
			return si
		}
	}
	m := make(map[S]*stateInfo, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	si := t.make(s)
	m[s] = si
	t.m.Store(&m)
	return si
}

func lenOf[K comparable, V any](m *map[K]V) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// join returns one Observer calling each of obs's hooks in turn, leaving out the nil ones.
func join[S comparable](obs []fsm.Observer[S]) fsm.Observer[S] {
	var enters []func(context.Context, S)
	var leaves []func(context.Context, S, S, time.Duration, error)
	for _, o := range obs {
		if o.Enter != nil {
			enters = append(enters, o.Enter)
		}
		if o.Leave != nil {
			leaves = append(leaves, o.Leave)
		}
	}
	var j fsm.Observer[S]
	switch len(enters) {
	case 0:
	case 1:
		j.Enter = enters[0]
	default:
		j.Enter = func(ctx context.Context, s S) {
			for _, f := range enters {
				f(ctx, s)
			}
		}
	}
	switch len(leaves) {
	case 0:
	case 1:
		j.Leave = leaves[0]
	default:
		j.Leave = func(ctx context.Context, s, next S, took time.Duration, err error) {
			for _, f := range leaves {
				f(ctx, s, next, took, err)
			}
		}
	}
	return j
}
