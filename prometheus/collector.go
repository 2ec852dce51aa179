package prometheus

import (
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagecoach-go/stagecoach/group"
)

// ErrAttached is the error an adapter returns when it is attached a second time: to the same
// machine, router or pool, or under a name already in use, which would mix two series into one.
var ErrAttached = errors.New("prometheus: already attached")

// StageBuckets are the stage duration histogram's bucket bounds, in seconds: from 1 us (a trivial
// stage) to 10 s, about three a decade. prometheus.DefBuckets start at 5 ms, slower than most
// stages.
var StageBuckets = []float64{
	1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
	1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// Router is what [Collector.ObserveRouter] reads: a *group.Router of any key and item type.
type Router interface {
	Stats() group.Stats
	Len() int
}

// Collector is a prometheus.Collector of stagecoach metrics: the stage durations and outcomes of
// the machines attached to it ([NewMachine]), and the counters of the routers it observes
// ([Collector.ObserveRouter]) and of its pools ([NewPool]), read at each scrape. Make it with
// [New], which registers it; it is safe for concurrent use.
type Collector struct {
	stageDuration *prometheus.HistogramVec
	stageItems    *prometheus.CounterVec
	kinds         [kinds]kindDescs
	groupsOpen    *prometheus.Desc

	mu      sync.Mutex
	names   map[string]struct{}    // kind + name of every adapter attached
	targets map[any]struct{}       // every router and pool observed
	live    map[*observed]struct{} // what Collect reads
}

// kind is what an observed target is: its metrics' prefix and label.
type kind int

const (
	kindRouter kind = iota
	kindPool
	kinds
)

var kindNames = [kinds]string{"router", "pool"}

func (k kind) String() string { return kindNames[k] }

// kindDescs are the descriptions of one kind of target's metrics.
type kindDescs struct{ submitted, completed, failed, queued, inFlight *prometheus.Desc }

// observed is one router or pool Collect reads.
type observed struct {
	kind  kind
	name  string
	stats func() group.Stats
	open  func() int // groups open: routers only
}

// New returns a Collector registered on reg.
//
// New returns reg's error if it refuses the Collector (another Collector already registered on
// it, say: one a registry). It panics if reg is nil.
func New(reg prometheus.Registerer) (*Collector, error) {
	if reg == nil {
		panic("prometheus: New: nil prometheus.Registerer")
	}
	c := &Collector{names: map[string]struct{}{}, targets: map[any]struct{}{}, live: map[*observed]struct{}{}}
	c.stageDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "stagecoach_stage_duration_seconds",
		Help:    "How long a machine's stage took, in seconds, by machine and state.",
		Buckets: StageBuckets,
	}, []string{"machine", "state"})
	c.stageItems = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stagecoach_stage_items_total",
		Help: "Items a machine's stage returned, by machine, state and outcome (ok, error, panic).",
	}, []string{"machine", "state", "outcome"})
	for k := range kinds {
		c.kinds[k] = newKindDescs(k)
	}
	c.groupsOpen = prometheus.NewDesc("stagecoach_router_groups_open", "Request groups open on a router.", []string{"router"}, nil)
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("prometheus: registering the collector: %w", err)
	}
	return c, nil
}

func newKindDescs(k kind) kindDescs {
	p, l := "stagecoach_"+k.String()+"_items_", []string{k.String()}
	return kindDescs{
		submitted: prometheus.NewDesc(p+"submitted_total", fmt.Sprintf("Items accepted by a %s.", k), l, nil),
		completed: prometheus.NewDesc(p+"completed_total", fmt.Sprintf("Items of a %s whose work func returned without error.", k), l, nil),
		failed:    prometheus.NewDesc(p+"failed_total", fmt.Sprintf("Items of a %s that failed.", k), l, nil),
		queued:    prometheus.NewDesc(p+"queued", fmt.Sprintf("Items accepted by a %s and not yet started.", k), l, nil),
		inFlight:  prometheus.NewDesc(p+"in_flight", fmt.Sprintf("Items a %s's workers are running.", k), l, nil),
	}
}

// Describe sends the descriptions of every metric c can collect.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.stageDuration.Describe(ch)
	c.stageItems.Describe(ch)
	for _, d := range c.kinds {
		ch <- d.submitted
		ch <- d.completed
		ch <- d.failed
		ch <- d.queued
		ch <- d.inFlight
	}
	ch <- c.groupsOpen
}

// Collect sends the stage metrics and a snapshot of every observed router's and pool's counters.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.stageDuration.Collect(ch)
	c.stageItems.Collect(ch)
	c.mu.Lock()
	live := make([]*observed, 0, len(c.live))
	for o := range c.live {
		live = append(live, o)
	}
	c.mu.Unlock()
	for _, o := range live { // outside c.mu: Stats takes the router's lock
		s, d := o.stats(), &c.kinds[o.kind]
		ch <- prometheus.MustNewConstMetric(d.submitted, prometheus.CounterValue, float64(s.Submitted), o.name)
		ch <- prometheus.MustNewConstMetric(d.completed, prometheus.CounterValue, float64(s.Completed), o.name)
		ch <- prometheus.MustNewConstMetric(d.failed, prometheus.CounterValue, float64(s.Failed), o.name)
		ch <- prometheus.MustNewConstMetric(d.queued, prometheus.GaugeValue, float64(s.Queued), o.name)
		ch <- prometheus.MustNewConstMetric(d.inFlight, prometheus.GaugeValue, float64(s.InFlight), o.name)
		if o.open != nil {
			ch <- prometheus.MustNewConstMetric(c.groupsOpen, prometheus.GaugeValue, float64(o.open()), o.name)
		}
	}
}

// ObserveRouter reports r's counters under the router label name: items submitted, completed
// and failed (counters), queued and in flight, and groups open (gauges), read at each scrape. The
// returned func stops the reporting; call it when r is shut down. No series carries a group key.
//
// ObserveRouter returns an error wrapping [ErrAttached] if r, or another router named name, is
// observed already. It panics if r is nil.
func (c *Collector) ObserveRouter(name string, r Router) (stop func(), err error) {
	if r == nil {
		panic("prometheus: ObserveRouter: nil Router")
	}
	return c.watch(&observed{kind: kindRouter, name: name, stats: r.Stats, open: r.Len}, r)
}

// claim records an adapter of kind named name on target (nil: none), or says why it cannot be.
func (c *Collector) claim(kind, name string, target any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := kind + " " + name
	if _, dup := c.names[id]; dup {
		return fmt.Errorf("%w: a %s named %q", ErrAttached, kind, name)
	}
	if target != nil {
		if _, dup := c.targets[target]; dup {
			return fmt.Errorf("%w: this %s is observed already", ErrAttached, kind)
		}
		c.targets[target] = struct{}{}
	}
	c.names[id] = struct{}{}
	return nil
}

func (c *Collector) unclaim(kind, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.names, kind+" "+name)
}

// watch claims target under o's name and adds o to what Collect reads.
func (c *Collector) watch(o *observed, target any) (func(), error) {
	if err := c.claim(o.kind.String(), o.name, target); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.live[o] = struct{}{}
	c.mu.Unlock()
	stopped := false
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if stopped {
			return
		}
		stopped = true
		delete(c.live, o)
		delete(c.names, o.kind.String()+" "+o.name)
		delete(c.targets, target)
	}, nil
}
