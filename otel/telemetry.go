package otel

import (
	"errors"
	"fmt"
	"sync"

	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/stagecoach-go/stagecoach/group"
)

// ScopeName is the instrumentation scope of every tracer and meter this package makes.
const ScopeName = "github.com/stagecoach-go/stagecoach/otel"

// ErrAttached is the error an adapter returns when it is attached a second time: to the same
// machine, router or pool, or under a name already in use, which would mix two series into one.
var ErrAttached = errors.New("otel: already attached")

// ErrGroupKeys is the error [Telemetry.ObserveGroup] returns unless the Telemetry was made with
// [WithGroupKeys]: a group key as an attribute makes one time series a key.
var ErrGroupKeys = errors.New("otel: group keys as attributes are off (see WithGroupKeys)")

// An Option configures a [Telemetry].
type Option interface{ apply(*Telemetry) }

type optionFunc func(*Telemetry)

func (f optionFunc) apply(t *Telemetry) { f(t) }

// WithTracerProvider turns tracing on, with tracers of tp. A no-op provider
// (go.opentelemetry.io/otel/trace/noop) is recognised and leaves tracing off, at no cost.
//
// WithTracerProvider panics if tp is nil.
func WithTracerProvider(tp trace.TracerProvider) Option {
	if tp == nil {
		panic("otel: WithTracerProvider: nil trace.TracerProvider")
	}
	return optionFunc(func(t *Telemetry) {
		switch tp.(type) {
		case tracenoop.TracerProvider, *tracenoop.TracerProvider:
			t.tracer = nil
		default:
			t.tracer = tp.Tracer(ScopeName)
		}
	})
}

// WithMeterProvider turns metrics on, with a meter of mp. A no-op provider
// (go.opentelemetry.io/otel/metric/noop) is recognised and leaves metrics off, at no cost.
//
// WithMeterProvider panics if mp is nil.
func WithMeterProvider(mp metric.MeterProvider) Option {
	if mp == nil {
		panic("otel: WithMeterProvider: nil metric.MeterProvider")
	}
	return optionFunc(func(t *Telemetry) {
		switch mp.(type) {
		case metricnoop.MeterProvider, *metricnoop.MeterProvider:
			t.meter = nil
		default:
			t.meter = mp.Meter(ScopeName)
		}
	})
}

// WithGroupKeys allows [Telemetry.ObserveGroup], whose series carry a group's key. Off by
// default: a key per connection, tenant or request makes a time series per key, which a metrics
// backend pays for in memory for as long as it keeps the series.
func WithGroupKeys() Option { return optionFunc(func(t *Telemetry) { t.groupKeys = true }) }

// Telemetry holds a service's tracer and its meter with the instruments every adapter of this
// package records to. Make one with [New] and share it; it is safe for concurrent use.
type Telemetry struct {
	tracer    trace.Tracer // nil: tracing off
	meter     metric.Meter // nil: metrics off
	groupKeys bool

	inst *instruments // nil when metrics are off

	mu       sync.Mutex
	names    map[string]struct{}    // kind + name of every adapter attached
	targets  map[any]struct{}       // every machine builder, router, pool and group attached
	live     map[*observed]struct{} // what the gauges' callback reads
	machines []counted              // the machines whose stage items it reports
}

// counted is a machine adapter whose stage items counter the callback reports.
type counted interface {
	observe(ob metric.Observer, items metric.Int64ObservableCounter)
}

// New returns a Telemetry. With no option it records nothing: tracing is on with
// [WithTracerProvider], metrics with [WithMeterProvider]. Unlike OpenTelemetry's own
// instrumentation libraries it does not fall back on the global providers, whose no-op default
// cannot be told apart from a real provider set later, so that "off" costs nothing; pass
// otel.GetTracerProvider() to follow the globals.
//
// New returns an error if the meter refuses an instrument.
func New(opts ...Option) (*Telemetry, error) {
	t := &Telemetry{names: map[string]struct{}{}, targets: map[any]struct{}{}, live: map[*observed]struct{}{}}
	for _, o := range opts {
		o.apply(t)
	}
	if t.meter == nil {
		return t, nil
	}
	inst, err := newInstruments(t.meter)
	if err != nil {
		return nil, err
	}
	t.inst = inst
	if _, err := t.meter.RegisterCallback(t.observe, inst.observables()...); err != nil {
		return nil, fmt.Errorf("otel: registering the gauges' callback: %w", err)
	}
	return t, nil
}

// Tracing reports whether t records spans.
func (t *Telemetry) Tracing() bool { return t.tracer != nil }

// Metrics reports whether t records metrics.
func (t *Telemetry) Metrics() bool { return t.meter != nil }

// claim records an adapter of kind named name on target (nil: none), or says why it cannot be.
func (t *Telemetry) claim(kind, name string, target any) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := kind + " " + name
	if _, dup := t.names[id]; dup {
		return fmt.Errorf("%w: a %s named %q", ErrAttached, kind, name)
	}
	if target != nil {
		if _, dup := t.targets[target]; dup {
			return fmt.Errorf("%w: this %s is observed already", ErrAttached, kind)
		}
		t.targets[target] = struct{}{}
	}
	t.names[id] = struct{}{}
	return nil
}

func (t *Telemetry) unclaim(kind, name string, target any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.names, kind+" "+name)
	delete(t.targets, target)
}

// Router is what [Telemetry.ObserveRouter] reads: a *group.Router of any key and item type.
type Router interface {
	Stats() group.Stats
	Len() int
}

// Group is what [Telemetry.ObserveGroup] reads: a *group.Group of any key and item type.
type Group interface {
	Stats() group.Stats
	Done() <-chan struct{}
}

// observed is one router, pool or group the gauges' callback reads.
type observed struct {
	kind   kind
	attrs  metric.ObserveOption // the series' attributes, made once
	stats  func() group.Stats
	open   func() int      // groups open: routers only
	done   <-chan struct{} // a group's Done: groups only
	forget func()          // stops reporting it and frees its name; with the Telemetry's mu held
}
