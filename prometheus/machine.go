package prometheus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// Machine records the stages of one fsm.Machine in its [Collector]: each stage's duration in
// stagecoach_stage_duration_seconds and its outcome in stagecoach_stage_items_total, labelled
// with the machine's name and the state. Make it with [NewMachine] and attach it to the
// machine's builder with [Machine.Attach] before Build. It is safe for concurrent use.
type Machine[S comparable, T any] struct {
	c       *Collector
	name    string
	states  stateTable[S]
	claimed atomic.Bool
}

// NewMachine returns the adapter of a machine named name, its series' machine label: give a
// constant, not a value per item.
//
// NewMachine panics if c is nil.
func NewMachine[S comparable, T any](c *Collector, name string) *Machine[S, T] {
	if c == nil {
		panic("prometheus: NewMachine: nil *Collector")
	}
	m := &Machine[S, T]{c: c, name: name}
	m.states.make = m.newState
	return m
}

// Attach sets m's hooks on b, followed by those of with (another adapter's, say), each called in
// turn. It returns an error wrapping [ErrAttached] if m is attached already (by Attach or
// [Machine.Observer]) or another Machine of the same name is.
//
// Attach panics if b is nil or already built (fsm's own panic).
func (m *Machine[S, T]) Attach(b *fsm.Builder[S, T], with ...fsm.Observer[S]) error {
	if b == nil {
		panic("prometheus: Attach: nil *fsm.Builder")
	}
	o, err := m.Observer()
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil { // Observe panics on a built builder: m stays free
			m.c.unclaim("machine", m.name)
			m.claimed.Store(false)
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
	if err := m.c.claim("machine", m.name, nil); err != nil {
		m.claimed.Store(false)
		return fsm.Observer[S]{}, err
	}
	return fsm.Observer[S]{Leave: m.leave}, nil
}

// leave records a stage's duration and outcome: two atomic updates, no allocation.
func (m *Machine[S, T]) leave(_ context.Context, state, _ S, took time.Duration, err error) {
	si := m.states.get(state)
	si.duration.Observe(took.Seconds())
	si.items[outcomeOf(err)].Inc()
}

type outcome int

const (
	outcomeOK outcome = iota
	outcomeError
	outcomePanic
	nOutcomes
)

var outcomeNames = [nOutcomes]string{"ok", "error", "panic"}

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

// stateInfo holds a state's series, looked up once.
type stateInfo struct {
	duration prometheus.Observer
	items    [nOutcomes]prometheus.Counter
}

func (m *Machine[S, T]) newState(s S) *stateInfo {
	name := fmt.Sprint(s)
	si := &stateInfo{duration: m.c.stageDuration.WithLabelValues(m.name, name)}
	for o := range nOutcomes {
		si.items[o] = m.c.stageItems.WithLabelValues(m.name, name, outcomeNames[o])
	}
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
	n := 0
	if old != nil {
		if si, ok := (*old)[s]; ok {
			return si
		}
		n = len(*old)
	}
	m := make(map[S]*stateInfo, n+1)
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
	if len(enters) > 0 {
		j.Enter = func(ctx context.Context, s S) {
			for _, f := range enters {
				f(ctx, s)
			}
		}
	}
	if len(leaves) == 1 {
		j.Leave = leaves[0]
	} else if len(leaves) > 1 {
		j.Leave = func(ctx context.Context, s, next S, took time.Duration, err error) {
			for _, f := range leaves {
				f(ctx, s, next, took, err)
			}
		}
	}
	return j
}
