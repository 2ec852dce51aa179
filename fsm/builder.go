package fsm

import (
	"context"
	"fmt"
	"time"
)

// StageFunc is a stage: it takes the item, returns it (changed or not) and the state to go to
// next, which must be one the stage declared when it was registered. A non-nil error ends the run
// in this stage.
type StageFunc[S comparable, T any] func(ctx context.Context, v T) (T, S, error)

// Observer holds optional hooks a Machine calls around every stage, for metrics or tracing. A
// nil func is not called; a Machine built without an Observer pays one nil check a run.
type Observer[S comparable] struct {
	// Enter is called before the stage of state runs.
	Enter func(ctx context.Context, state S)
	// Leave is called after it returned, with the next state it chose, how long it took and its
	// error: a *PanicError if it panicked, [ErrGoexit] if it called runtime.Goexit.
	Leave func(ctx context.Context, state, next S, took time.Duration, err error)
}

// DefaultStepLimit is the most stages one run executes unless [Builder.StepLimit] says otherwise.
const DefaultStepLimit = 10_000

// A Builder collects the stages and terminal states of a machine, then builds it. Make one with
// [NewBuilder]; a Builder is frozen by [Builder.Build]: registering anything afterwards panics. A
// Builder is not safe for concurrent use.
type Builder[S comparable, T any] struct {
	specs   []spec[S, T] // in registration order
	acyclic bool
	limit   int
	obs     Observer[S]
	built   bool
}

// spec is one registration: a stage with its declared next states, or a terminal state.
type spec[S comparable, T any] struct {
	state    S
	fn       StageFunc[S, T]
	step     func(context.Context, T) (T, error) // a Step: always goes on to next[0]
	next     []S
	terminal bool
}

// NewBuilder returns an empty Builder.
func NewBuilder[S comparable, T any]() *Builder[S, T] {
	return &Builder[S, T]{limit: DefaultStepLimit}
}

// Stage registers fn as the stage of state s, which may go on to the states in next (its
// declared transitions). It returns b.
//
// Stage panics if fn is nil or b was already built.
func (b *Builder[S, T]) Stage(s S, fn StageFunc[S, T], next ...S) *Builder[S, T] {
	b.mustOpen(fmt.Sprintf("Stage(%v)", s))
	if fn == nil {
		panic(fmt.Sprintf("fsm: Stage(%v): nil stage func", s))
	}
	b.specs = append(b.specs, spec[S, T]{state: s, fn: fn, next: append([]S(nil), next...)})
	return b
}

// Step registers fn as the stage of state s for a stage that always goes on to next: fn has the
// plain shape func(ctx, v) (v, error) that pool, group and pipe take too, so the same funcs serve
// every design, and the machine needs no next-state scan after it. It returns b.
//
// Step panics if fn is nil or b was already built.
func (b *Builder[S, T]) Step(s S, fn func(context.Context, T) (T, error), next S) *Builder[S, T] {
	b.mustOpen(fmt.Sprintf("Step(%v)", s))
	if fn == nil {
		panic(fmt.Sprintf("fsm: Step(%v): nil stage func", s))
	}
	b.specs = append(b.specs, spec[S, T]{state: s, step: fn, next: []S{next}})
	return b
}

// Terminal declares states where a run ends. It returns b.
//
// Terminal panics if b was already built.
func (b *Builder[S, T]) Terminal(states ...S) *Builder[S, T] {
	b.mustOpen(fmt.Sprintf("Terminal(%v)", states))
	for _, s := range states {
		b.specs = append(b.specs, spec[S, T]{state: s, terminal: true})
	}
	return b
}

// Acyclic makes [Builder.Build] reject a graph with a cycle. It returns b.
func (b *Builder[S, T]) Acyclic() *Builder[S, T] {
	b.mustOpen("Acyclic()")
	b.acyclic = true
	return b
}

// StepLimit sets the most stages one run executes before it fails with [ErrStepLimit], which
// stops a run that cycles for ever; 0 means no limit. The default is [DefaultStepLimit]. It
// returns b.
//
// StepLimit panics if n is negative or b was already built.
func (b *Builder[S, T]) StepLimit(n int) *Builder[S, T] {
	b.mustOpen(fmt.Sprintf("StepLimit(%d)", n))
	if n < 0 {
		panic(fmt.Sprintf("fsm: StepLimit(%d): must not be negative", n))
	}
	b.limit = n
	return b
}

// Observe sets the hooks the machine calls around every stage. It returns b.
//
// Observe panics if b was already built.
func (b *Builder[S, T]) Observe(o Observer[S]) *Builder[S, T] {
	b.mustOpen("Observe()")
	b.obs = o
	return b
}

func (b *Builder[S, T]) mustOpen(call string) {
	if b.built {
		panic(fmt.Sprintf("fsm: %s after Build: a Builder is frozen once built", call))
	}
}

// Build validates the graph and returns the machine that starts at start. A graph error names
// the state at fault and wraps one of the Err sentinels ([ErrUnknownState], [ErrNoStart],
// [ErrDuplicate], [ErrUnreachable], [ErrDeadEnd], [ErrCycle]); several are joined, in
// registration order. Build freezes b, whether it succeeds or not. For a machine built at package
// level, [Must] turns a build error into a panic.
//
// Build panics if b was already built.
func (b *Builder[S, T]) Build(start S) (*Machine[S, T], error) {
	b.mustOpen("Build()")
	b.built = true
	g := compile(b.specs)
	if err := g.validate(start, b.acyclic); err != nil {
		return nil, err
	}
	return newMachine(g, start, b.limit, b.obs), nil
}

// Must returns m, and panics with err if err is not nil. It is for a machine built where a build
// error cannot be handled, such as a package-level variable, whose graph is fixed in the code:
//
//	var orders = fsm.Must(fsm.NewBuilder[State, Order]().
//		Stage(Validate, validate, Enrich, Rejected).
//		Step(Enrich, enrich, Done).
//		Terminal(Done, Rejected).
//		Build(Validate))
//
// The panic value is err itself, the error Build returned (a *[GraphError], or several joined),
// so it names the state at fault and errors.Is reaches its sentinel.
//
// Must also panics if m is nil and err is nil, which Build never returns.
func Must[S comparable, T any](m *Machine[S, T], err error) *Machine[S, T] {
	if err != nil {
		panic(err)
	}
	if m == nil {
		panic("fsm: Must(nil, nil): no machine and no error")
	}
	return m
}
