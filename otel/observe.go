package otel

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Attribute keys of this package's series and spans. None of them is ever given a group's key
// but [KeyGroup], by [Telemetry.ObserveGroup] alone.
const (
	KeyMachine  = attribute.Key("stagecoach.machine")    // the name given to NewMachine
	KeyState    = attribute.Key("stagecoach.state")      // a stage's state, as fmt prints it
	KeyNext     = attribute.Key("stagecoach.next_state") // the state a stage chose next
	KeyOutcome  = attribute.Key("stagecoach.outcome")    // ok, error or panic
	KeyRouter   = attribute.Key("stagecoach.router")     // the name given to ObserveRouter
	KeyPool     = attribute.Key("stagecoach.pool")       // the name given to NewPool
	KeyGroup    = attribute.Key("stagecoach.group")      // a group's key: ObserveGroup only
	KeyDuration = attribute.Key("stagecoach.stage.duration")
)

// kind is what an observed target is: its instruments' prefix.
type kind int

const (
	kindRouter kind = iota
	kindPool
	kindGroup
	kinds
)

var kindNames = [kinds]string{"router", "pool", "group"}

func (k kind) String() string { return kindNames[k] }

// ObserveRouter reports r's counters under name (the stagecoach.router attribute): items
// submitted, completed and failed (observable counters), queued and in flight, and groups open
// (observable gauges), read when the meter collects. The returned func stops the reporting; call
// it when r is shut down. No series carries a group key.
//
// ObserveRouter returns an error wrapping [ErrAttached] if r, or another router named name, is
// observed already. It panics if r is nil.
func (t *Telemetry) ObserveRouter(name string, r Router) (stop func(), err error) {
	if r == nil {
		panic("otel: ObserveRouter: nil Router")
	}
	return t.watch(&observed{kind: kindRouter, stats: r.Stats, open: r.Len}, name, r, KeyRouter.String(name))
}

// ObserveGroup reports g's counters, as ObserveRouter does a router's, with two attributes: the
// router's name and key, the group's key. It is refused with [ErrGroupKeys] unless t was made
// with [WithGroupKeys] (see there why). The group is forgotten once its Done channel is closed
// and its last counters are reported; then a new group of the same key can be observed.
//
// ObserveGroup returns an error wrapping [ErrAttached] if g, or another group of router with
// key, is observed already. It panics if g is nil.
func (t *Telemetry) ObserveGroup(router, key string, g Group) (stop func(), err error) {
	if g == nil {
		panic("otel: ObserveGroup: nil Group")
	}
	if !t.groupKeys {
		return nil, ErrGroupKeys
	}
	o := &observed{kind: kindGroup, stats: g.Stats, done: g.Done()}
	return t.watch(o, router+"\x00"+key, g, KeyRouter.String(router), KeyGroup.String(key))
}

// watch claims target under name and adds o to what the callback reads.
func (t *Telemetry) watch(o *observed, name string, target any, attrs ...attribute.KeyValue) (func(), error) {
	if err := t.claim(o.kind.String(), name, target); err != nil {
		return nil, err
	}
	o.attrs = metric.WithAttributeSet(attribute.NewSet(attrs...))
	stopped := false
	o.forget = func() { // with t.mu held
		if stopped {
			return
		}
		stopped = true
		delete(t.live, o)
		delete(t.names, o.kind.String()+" "+name)
		delete(t.targets, target)
	}
	t.mu.Lock()
	t.live[o] = struct{}{}
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		o.forget()
	}, nil
}

// observe is the one callback of the observable instruments: it reads every target's counters.
// A group whose Done is closed is reported one last time and forgotten.
func (t *Telemetry) observe(_ context.Context, ob metric.Observer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range t.machines {
		m.observe(ob, t.inst.stageItems)
	}
	for o := range t.live {
		s := o.stats()
		in := &t.inst.kinds[o.kind]
		ob.ObserveInt64(in.submitted, s.Submitted, o.attrs)
		ob.ObserveInt64(in.completed, s.Completed, o.attrs)
		ob.ObserveInt64(in.failed, s.Failed, o.attrs)
		ob.ObserveInt64(in.queued, s.Queued, o.attrs)
		ob.ObserveInt64(in.inFlight, s.InFlight, o.attrs)
		if o.open != nil {
			ob.ObserveInt64(t.inst.groupsOpen, int64(o.open()), o.attrs)
		}
		if o.done != nil && isClosed(o.done) {
			o.forget() // its key may be opened and observed again
		}
	}
	return nil
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// instruments are the Telemetry's, made once by New.
type instruments struct {
	stageDuration metric.Float64Histogram
	stageItems    metric.Int64ObservableCounter
	groupsOpen    metric.Int64ObservableGauge
	kinds         [kinds]kindInstruments
}

// kindInstruments are the observable instruments of one kind of target.
type kindInstruments struct {
	submitted, completed, failed metric.Int64ObservableCounter
	queued, inFlight             metric.Int64ObservableGauge
}

// StageBuckets are the stage duration histogram's bucket bounds, in seconds: from 1 us (a trivial
// stage) to 10 s, about three a decade. OpenTelemetry's default bounds (0 to 10,000) suit
// milliseconds, not seconds.
var StageBuckets = []float64{
	1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
	1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

func newInstruments(m metric.Meter) (*instruments, error) {
	in := &instruments{}
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	in.stageDuration, err = m.Float64Histogram("stagecoach.stage.duration", metric.WithUnit("s"),
		metric.WithDescription("How long a machine's stage took, by machine and state."),
		metric.WithExplicitBucketBoundaries(StageBuckets...))
	note(err)
	in.stageItems, err = m.Int64ObservableCounter("stagecoach.stage.items", metric.WithUnit("{item}"),
		metric.WithDescription("Items a machine's stage returned, by machine, state and outcome (ok, error, panic)."))
	note(err)
	in.groupsOpen, err = m.Int64ObservableGauge("stagecoach.router.groups.open", metric.WithUnit("{group}"),
		metric.WithDescription("Request groups open on a router."))
	note(err)
	for k := range kinds {
		note(in.kinds[k].make(m, k))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("otel: making the instruments: %w", errors.Join(errs...))
	}
	return in, nil
}

func (ki *kindInstruments) make(m metric.Meter, k kind) error {
	p := "stagecoach." + k.String() + ".items."
	var errs [5]error
	ki.submitted, errs[0] = m.Int64ObservableCounter(p+"submitted", metric.WithUnit("{item}"),
		metric.WithDescription(fmt.Sprintf("Items accepted by a %s.", k)))
	ki.completed, errs[1] = m.Int64ObservableCounter(p+"completed", metric.WithUnit("{item}"),
		metric.WithDescription(fmt.Sprintf("Items of a %s whose work func returned without error.", k)))
	ki.failed, errs[2] = m.Int64ObservableCounter(p+"failed", metric.WithUnit("{item}"),
		metric.WithDescription(fmt.Sprintf("Items of a %s that failed.", k)))
	ki.queued, errs[3] = m.Int64ObservableGauge(p+"queued", metric.WithUnit("{item}"),
		metric.WithDescription(fmt.Sprintf("Items accepted by a %s and not yet started.", k)))
	ki.inFlight, errs[4] = m.Int64ObservableGauge(p+"in_flight", metric.WithUnit("{item}"),
		metric.WithDescription(fmt.Sprintf("Items a %s's workers are running.", k)))
	return errors.Join(errs[:]...)
}

func (in *instruments) observables() []metric.Observable {
	obs := []metric.Observable{in.groupsOpen, in.stageItems}
	for _, k := range in.kinds {
		obs = append(obs, k.submitted, k.completed, k.failed, k.queued, k.inFlight)
	}
	return obs
}
