// Package fsm builds typed state machines whose states are the stages of a pipeline: each stage
// is a plain func of the caller's that takes an item and returns it with the state to go to next.
// Stages are registered explicitly, each with the states it may go to; the graph is validated
// when the machine is built; a built [Machine] runs any number of items at once.
//
//	m, err := fsm.NewBuilder[State, Order]().
//		Stage(Validate, validate, Enrich, Rejected).
//		Stage(Enrich, enrich, Done).
//		Terminal(Done, Rejected).
//		Build(Validate)
//	order, state, err := m.Run(ctx, order)
//
// # Registration
//
// [Builder.Stage] registers the [StageFunc] of a state and its declared next states;
// [Builder.Step] registers a plain func(ctx, v) (v, error) — the shape pool, group and pipe take —
// for a stage that always goes on to one state; [Builder.Terminal] declares the states where a
// run ends. Nothing is found by reflection or by
// method name. Registering after [Builder.Build], a nil stage func, or a negative step limit
// panics at the call site with a message naming the value.
//
// # Validation
//
// Build returns a *[GraphError] naming the state at fault, wrapping a sentinel for errors.Is, for
// each of: a declared next state that has neither a stage nor is terminal ([ErrUnknownState]); a
// start state without a stage ([ErrNoStart]); a state registered twice ([ErrDuplicate]); a stage
// unreachable from the start ([ErrUnreachable]); a stage from which no terminal state can be
// reached ([ErrDeadEnd]); and, for a machine built [Builder.Acyclic], a stage on a cycle
// ([ErrCycle]). Several problems are joined with errors.Join, in registration order.
//
// # Running
//
// [Machine.Run] takes an item from the start state until a terminal state and returns the final
// value, the terminal state and nil. It fails, with a *[StateError] naming the state and wrapping
// the cause so that errors.Is and errors.As reach it, when:
//   - a stage returns an error (the error is the cause; the stage's returned value is returned);
//   - a stage returns a next state it did not declare ([ErrTransition]; the message names both
//     states; the value the stage was called with is returned);
//   - a stage panics (a *[PanicError] with the panic value and the stack is the cause; the value
//     the stage was called with is returned; the calling goroutine carries on);
//   - the context has ended: it is checked before every stage, the first included, so a context
//     that has already ended runs no stage, and the context's cause is the cause (a stage that
//     blocks should watch ctx itself, which it is given);
//   - the run has executed its step limit of stages ([ErrStepLimit]; [DefaultStepLimit] unless
//     set with [Builder.StepLimit]), which stops runaway cycles.
//
// [Machine.Do] is Run without the final state: the work-func shape that pool.Run and
// group.Router take, so a Machine plugs into them as m.Do.
//
// A stage that calls runtime.Goexit (what testing.T.FailNow does) ends the calling goroutine, as
// it would without the machine: Run does not return, an [Observer]'s Leave gets [ErrGoexit], and
// the Machine, which keeps no state of a run, is unaffected. Recovering from it is the caller's
// business.
//
// Run on a Machine not made by [Builder.Build] (a zero Machine, or a nil *Machine when Build
// failed) panics with a message naming the misuse.
//
// # Concurrency
//
// A built Machine is immutable and safe for concurrent use by any number of goroutines; a run
// keeps its state on the calling goroutine's stack. A Builder is not safe for concurrent use.
//
// # Observer
//
// [Builder.Observe] sets hooks called before and after every stage, with the stage's duration,
// next state and error: where metrics or tracing plug in without the package depending on them.
// Unset, they cost one nil check a stage and no clock reading.
//
// # Diagrams
//
// [Machine.Mermaid] and [Machine.DOT] render the graph deterministically (registration order), for
// docs: a stateDiagram-v2 and a Graphviz digraph.
//
// # Cost
//
// Building compiles the graph into a table: each node holds its stage func and its declared next
// states as a short slice of (state, node index). After a stage returns, a linear scan of that
// slice both validates the transition and gives the next node: no map lookup per transition. A
// machine that is a straight line of Steps from the start to a terminal state, with no Observer
// (the usual pipeline: validate, enrich, persist), skips the table: its stages are called in turn
// from a slice, with the same contract (a fifth fewer instructions a run of four steps; about the
// same time on this machine, where the indirect calls set the pace). A run allocates nothing when
// T does not escape. Measured on a 2-core machine with four trivial
// stages on a value item (BenchmarkMachineRun against BenchmarkDirectCalls, medians of 5; the
// machine's speed varies from day to day, the ratios do not): a run of Stages takes about 3.3
// times as long as calling the four stage funcs in a loop (40 ns against 12 ns), a run of Steps,
// which need no next-state scan, about 2.7 times (32 ns); with a cancellable context, about 3.4
// times (41 ns: the context is checked before each stage). For scale: a map lookup per
// transition made a 4-stage run about 20 times as long as the direct calls. 0 allocations a run
// (TestRunAllocatesNothing checks it).
package fsm
