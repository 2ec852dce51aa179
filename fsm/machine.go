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
	obs   *Observer[S] // nil when no hook is set: the run pays one nil check a stage
	// chain is the machine's stages in order when they form a straight line of Steps from the
	// start to the terminal state end (validate, enrich, persist: most pipelines), no Observer
	// is set and the step limit allows the whole line. Run then calls them in turn, with no
	// dispatch; nil otherwise.
	chain []link[S, T]
	end   S
}

// link is one stage of a Machine's chain.
type link[S comparable, T any] struct {
	state S
	step  func(context.Context, T) (T, error)
}

func newMachine[S comparable, T any](g *graph[S, T], start S, limit int, obs Observer[S]) *Machine[S, T] {
	if limit == 0 {
		limit = math.MaxInt // no limit
	}
	m := &Machine[S, T]{nodes: g.nodes, start: g.index[start], limit: limit}
	if obs.Enter != nil || obs.Leave != nil {
		m.obs = &obs
	}
	if chain, end, ok := chainOf(m.nodes, m.start); ok && m.obs == nil && len(chain) <= limit {
		m.chain, m.end = chain, end
	}
	return m
}

// chainOf returns the stages met from start when each is a Step (one next state) and they lead
// to a terminal state without coming back to a state already met; ok is false otherwise.
func chainOf[S comparable, T any](nodes []node[S, T], start int) (chain []link[S, T], end S, ok bool) {
	for cur := start; ; {
		n := &nodes[cur]
		if n.terminal {
			return chain, n.state, true
		}
		if n.step == nil || len(chain) == len(nodes) { // a Stage, or a cycle
			return nil, end, false
		}
		chain = append(chain, link[S, T]{state: n.state, step: n.step})
		cur = n.next[0].to
	}
}

// Run runs v through the machine from the start state until a terminal state and returns the
// final value and the terminal state. On failure it returns the value as it was when the failing
// stage was called (the stage's own returned value if it returned an error), the state the run
// failed in, and a *[StateError]. Run blocks while stages run; it checks ctx before every stage,
// the first included, so a run with a context that has already ended runs no stage.
//
// Run panics, naming the misuse, if m is nil or was not made by [Builder.Build].
//
// High-level idea: the loop is the hot path of every fused design, so it does per stage only
// what it must: a look at the context (one atomic load), a step count, the indirect call of the
// stage, and a scan of the stage's few declared next states, which both validates the transition
// and gives the next node's index. A machine that is a straight line of Steps skips even that:
// its stages are called in turn from a slice (runChain). One deferred recover covers the whole run.
func (m *Machine[S, T]) Run(ctx context.Context, v T) (out T, state S, err error) {
	m.mustBuilt("Run")
	if m.chain != nil {
		return m.runChain(ctx, v)
	}
	cur := m.start
	defer func() {
		if p := recover(); p != nil {
			out, state, err = v, m.nodes[cur].state, &StateError[S]{State: m.nodes[cur].state, Err: panics.New(p)}
		}
	}()
	for steps := 0; ; steps++ {
		n := &m.nodes[cur]
		if n.terminal {
			return v, n.state, nil
		}
		if steps >= m.limit || ctx.Err() != nil {
			return v, n.state, m.stopped(ctx, n.state, steps)
		}
		to := -1
		if n.step == nil || m.obs != nil {
			var next S
			var nv T
			if m.obs == nil {
				nv, next, err = n.fn(ctx, v)
			} else {
				nv, next, err = m.observed(ctx, n, v)
			}
			if err != nil {
				return nv, n.state, &StateError[S]{State: n.state, Err: err}
			}
			if to = n.find(next); to < 0 {
				return v, n.state, n.undeclared(next)
			}
			v = nv
		} else {
			nv, err := n.step(ctx, v)
			if err != nil {
				return nv, n.state, &StateError[S]{State: n.state, Err: err}
			}
			v, to = nv, n.next[0].to
		}
		cur = to
	}
}

// runChain is Run for a machine whose stages form a chain (see Machine): the same contract and
// results, with no dispatch between the stages.
func (m *Machine[S, T]) runChain(ctx context.Context, v T) (out T, state S, err error) {
	i := 0
	defer func() {
		if p := recover(); p != nil {
			st := m.chain[i].state
			out, state, err = v, st, &StateError[S]{State: st, Err: panics.New(p)}
		}
	}()
	for ; i < len(m.chain); i++ {
		l := &m.chain[i]
		if ctx.Err() != nil {
			return v, l.state, m.stopped(ctx, l.state, i)
		}
		nv, err := l.step(ctx, v)
		if err != nil {
			return nv, l.state, &StateError[S]{State: l.state, Err: err}
		}
		v = nv
	}
	return v, m.end, nil
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
func (m *Machine[S, T]) Do(ctx context.Context, v T) (T, error) {
	v, _, err := m.Run(ctx, v)
	return v, err
}

// stopped says why the run must not enter the stage of state: the context ended, or the step
// limit is reached.
func (m *Machine[S, T]) stopped(ctx context.Context, state S, steps int) error {
	if ctx.Err() != nil {
		return &StateError[S]{State: state, Err: context.Cause(ctx)}
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

// find returns the index of the node of state next, or -1 when n did not declare it.
func (n *node[S, T]) find(next S) int {
	for _, e := range n.next {
		if e.state == next {
			return e.to
		}
	}
	return -1
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
