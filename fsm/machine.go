package fsm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// PanicError is the error a run gets (wrapped in a [StateError]) when a stage panicked. Fields:
// Value, the value passed to panic; Stack, the stack of the panicking goroutine. Error returns
// one line ("panic: " and the value); %+v adds the stack.
type PanicError = panics.Error

// ErrGoexit is the error an [Observer]'s Leave gets when a stage called runtime.Goexit: the
// calling goroutine ends, as it would without the machine, and Run does not return.
var ErrGoexit = panics.ErrGoexit

// Run errors, wrapped in a *[StateError] naming the state.
var (
	// ErrTransition: a stage returned a next state it did not declare.
	ErrTransition = errors.New("undeclared transition")
	// ErrStepLimit: the run executed its step limit of stages without reaching a terminal state.
	ErrStepLimit = errors.New("step limit reached")
)

// StateError is the error of a run that failed in State: the stage's own error, a
// *[PanicError], [ErrTransition], [ErrStepLimit], or the context's cause when the context ended
// before the stage ran. errors.Is and errors.As reach Err through it.
type StateError[S comparable] struct {
	State S
	Err   error
}

func (e *StateError[S]) Error() string { return fmt.Sprintf("fsm: state %v: %v", e.State, e.Err) }

// Format prints Error for %v and %s; %+v formats Err with %+v, so a *[PanicError]'s stack shows.
func (e *StateError[S]) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('+') {
		_, _ = fmt.Fprintf(f, "fsm: state %v: %+v", e.State, e.Err)
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), e.Error())
}

func (e *StateError[S]) Unwrap() error { return e.Err }

// Machine is a built state machine. It is immutable, and safe for concurrent use by any number of
// goroutines: all the state of a run lives on the calling goroutine's stack.
type Machine[S comparable, T any] struct {
	nodes []node[S, T]
	start int
	limit int
	obs   *Observer[S] // nil when no hook is set: Run then takes its loop without hooks
}

func newMachine[S comparable, T any](g *graph[S, T], start S, limit int, obs Observer[S]) *Machine[S, T] {
	if limit == 0 {
		limit = math.MaxInt // no limit
	}
	m := &Machine[S, T]{nodes: g.nodes, start: g.index[start], limit: limit}
	if obs.Enter != nil || obs.Leave != nil {
		m.obs = &obs
	}
	return m
}

// Run runs v through the machine from the start state until a terminal state and returns the
// final value and the terminal state. On failure it returns the value as it was when the failing
// stage was called (the stage's own returned value if it returned an error), the state the run
// failed in, and a *[StateError]. Run blocks while stages run; it checks ctx before every stage,
// the first included, so a run with a context that has already ended runs no stage.
//
// Run panics, naming the misuse, if ctx is nil, or if m is nil or was not made by [Builder.Build].
//
// Run asks ctx for its Done channel once a run. A context that can never end (Done returns nil:
// Background, TODO, WithoutCancel) is then not looked at again; a cancellable one is checked with
// ctx.Err before every stage. A context whose Done channel nobody asked for yet makes it then, once
// for the life of that context.
//
// High-level idea: the loop is the hot path of every fused design, so it does per stage only what
// the contract needs: a step count, a look at the context when it can end at all, the indirect
// call of the stage, and for a Stage a comparison of the next state it returned with its first
// declared one (a scan of the others when it differs), which both validates the transition and
// gives the edge to follow. An edge points at the next node and says whether it is terminal, so
// the run ends without loading that node. One deferred func covers the whole run: it recovers a
// panic of a stage, and returns at once after a run that reached a terminal state (n is then
// nil). A machine with an Observer runs the same loop with the hooks around each stage
// (runObserved).
func (m *Machine[S, T]) Run(ctx context.Context, v T) (out T, state S, err error) {
	if ctx == nil {
		panic("fsm: Run(nil, v): nil context (use context.Background() or a caller's ctx)")
	}
	m.mustBuilt("Run")
	if m.obs != nil {
		return m.runObserved(ctx, v)
	}
	done := ctx.Done()
	n := &m.nodes[m.start]
	defer func() {
		if n == nil { // the run ended in a terminal state: no panic to look for
			return
		}
		if p := recover(); p != nil {
			out, state, err = panicked(n, v, p)
		}
	}()
	for left := m.limit; ; left-- { // left: how many more stages the step limit allows
		if left == 0 {
			return v, n.state, m.stopped(ctx, n.state, m.limit)
		}
		if done != nil {
			if ctx.Err() != nil {
				return v, n.state, m.ended(ctx, n.state)
			}
		}
		e := n.first // a stage a run reaches has a next state: Build rejects dead ends

		if n.step != nil {
			nv, err := n.step(ctx, v)
			if err != nil {
				return nv, n.state, &StateError[S]{State: n.state, Err: err}
			}
			v = nv
		} else {
			nv, next, err := n.fn(ctx, v)
			if err != nil {
				return nv, n.state, &StateError[S]{State: n.state, Err: err}
			}
			if e.state != next { // not the first declared: scan the others
				if e = n.find(next); e == nil {
					return v, n.state, n.undeclared(next)
				}
			}
			v = nv
		}
		if e.terminal {
			n = nil
			return v, e.state, nil
		}
		n = e.node
	}
}

// panicked is the result of a run whose stage at n panicked with p, called with v.
func panicked[S comparable, T any](n *node[S, T], v T, p any) (T, S, error) {
	return v, n.state, &StateError[S]{State: n.state, Err: panics.New(p)}
}

// runObserved is Run for a machine with an Observer: each stage is called between its hooks.
func (m *Machine[S, T]) runObserved(ctx context.Context, v T) (out T, state S, err error) {
	n := &m.nodes[m.start]
	defer func() {
		if p := recover(); p != nil {
			out, state, err = panicked(n, v, p)
		}
	}()
	for steps := 0; ; steps++ {
		if steps >= m.limit {
			return v, n.state, m.stopped(ctx, n.state, steps)
		}
		if ctx.Err() != nil {
			return v, n.state, m.ended(ctx, n.state)
		}
		nv, next, err := m.observed(ctx, n, v)
		if err != nil {
			return nv, n.state, &StateError[S]{State: n.state, Err: err}
		}
		e := n.find(next)
		if e == nil {
			return v, n.state, n.undeclared(next)
		}
		if v = nv; e.terminal {
			return v, e.state, nil
		}
		n = e.node
	}
}

// mustBuilt panics, naming the call, if m cannot run: a nil *Machine, or a Machine not made by
// Build (the zero value), which has no states. The check is inlined; the panic is not.
func (m *Machine[S, T]) mustBuilt(call string) {
	if m == nil || len(m.nodes) == 0 {
		m.notBuilt(call)
	}
}

func (m *Machine[S, T]) notBuilt(call string) {
	if m == nil {
		panic(fmt.Sprintf("fsm: %s on a nil *Machine (did Build return an error?)", call))
	}
	panic(fmt.Sprintf("fsm: %s on a Machine not built with Builder.Build", call))
}

// Do runs v through the machine like [Machine.Run], without the final state: the work-func shape
// that pool.Run and group.Router take, so a Machine plugs into them as m.Do.
//
// Do panics, naming the misuse, if ctx is nil, or if m is nil or was not made by [Builder.Build].
func (m *Machine[S, T]) Do(ctx context.Context, v T) (T, error) {
	if ctx == nil {
		panic("fsm: Do(nil, v): nil context (use context.Background() or a caller's ctx)")
	}
	v, _, err := m.Run(ctx, v)
	return v, err
}

// ended is the error of a run whose context ended before the stage of state.
func (m *Machine[S, T]) ended(ctx context.Context, state S) error {
	return &StateError[S]{State: state, Err: context.Cause(ctx)}
}

// stopped is the error of a run that executed its step limit of stages before the stage of state,
// unless the context has ended too: that is the first reason to stop.
func (m *Machine[S, T]) stopped(ctx context.Context, state S, steps int) error {
	if ctx.Err() != nil {
		return m.ended(ctx, state)
	}
	return &StateError[S]{State: state, Err: fmt.Errorf("%w: %d stages run", ErrStepLimit, steps)}
}

// observed calls the stage of n between the Observer's hooks. Leave gets the stage's error, a
// *PanicError if it panicked (the panic then goes on to Run's recover), or ErrGoexit if it called
// runtime.Goexit (which goes on ending the goroutine).
func (m *Machine[S, T]) observed(ctx context.Context, n *node[S, T], v T) (out T, next S, err error) {
	if m.obs.Enter != nil {
		m.obs.Enter(ctx, n.state)
	}
	began := time.Now()
	returned := false
	defer func() {
		if m.obs.Leave == nil {
			return
		}
		if !returned {
			p := recover()
			m.obs.Leave(ctx, n.state, next, time.Since(began), panics.Caught(p))
			if p != nil {
				panic(p)
			}
			return
		}
		m.obs.Leave(ctx, n.state, next, time.Since(began), err)
	}()
	out, next, err = n.call(ctx, v)
	returned = true
	return out, next, err
}

// call runs the node's stage, a Stage or a Step.
func (n *node[S, T]) call(ctx context.Context, v T) (T, S, error) {
	if n.step == nil {
		return n.fn(ctx, v)
	}
	v, err := n.step(ctx, v)
	return v, n.next[0].state, err
}

// find returns the edge to state next, or nil when n did not declare it.
func (n *node[S, T]) find(next S) *edge[S, T] {
	for i := range n.next {
		if n.next[i].state == next {
			return &n.next[i]
		}
	}
	return nil
}

func (n *node[S, T]) undeclared(next S) error {
	declared := make([]S, len(n.next))
	for i, e := range n.next {
		declared[i] = e.state
	}
	return &StateError[S]{State: n.state, Err: fmt.Errorf("%w: returned next state %v, which it did not declare (declared: %v)",
		ErrTransition, next, declared)}
}

func (m *Machine[S, T]) indexOf(s S) int {
	for i, n := range m.nodes {
		if n.state == s {
			return i
		}
	}
	return -1
}

// Start returns the start state. Start panics if m was not made by [Builder.Build].
func (m *Machine[S, T]) Start() S {
	m.mustBuilt("Start")
	return m.nodes[m.start].state
}

// States returns every state of the machine in the order they were registered.
func (m *Machine[S, T]) States() []S {
	states := make([]S, len(m.nodes))
	for i, n := range m.nodes {
		states[i] = n.state
	}
	return states
}

// Next returns the states the stage of s declared, or nil for a terminal or unknown state.
func (m *Machine[S, T]) Next(s S) []S {
	i := m.indexOf(s)
	if i < 0 {
		return nil
	}
	var next []S
	for _, e := range m.nodes[i].next {
		next = append(next, e.state)
	}
	return next
}

// IsTerminal reports whether s is a terminal state of the machine.
func (m *Machine[S, T]) IsTerminal(s S) bool {
	i := m.indexOf(s)
	return i >= 0 && m.nodes[i].terminal
}
