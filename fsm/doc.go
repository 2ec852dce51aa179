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
// # Naming states
//
// Errors and diagrams print a state with %v, so a state type with a String method is named by it
// ("fsm: state Validate: ...", not "fsm: state 0: ..."). For an integer state type, generate the
// method with the stringer tool (golang.org/x/tools/cmd/stringer) and go generate:
//
//	//go:generate stringer -type=State
//	type State int
//
//	const (
//		Validate State = iota
//		Enrich
//		Done
//		Rejected
//	)
//
// String is called only when an error message or a diagram is made, never on a successful run.
//
// # Machines at package level
//
// [Must] turns Build's result into the machine, and panics with the build error (which names the
// state at fault) if there is one, for a machine whose graph is fixed in the code and built once:
//
//	var orders = fsm.Must(fsm.NewBuilder[State, Order]().
//		Stage(Validate, validate, Enrich, Rejected).
//		Step(Enrich, enrich, Done).
//		Terminal(Done, Rejected).
//		Build(Validate))
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
// Run or Do with a nil context, or on a Machine not made by [Builder.Build] (a zero Machine, or a
// nil *Machine when Build failed), panics at the call with a message naming the misuse.
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
// Unset, they cost one nil check a run and no clock reading.
//
// # Diagrams
//
// [Machine.Mermaid] and [Machine.DOT] render the graph deterministically (registration order), for
// docs: a stateDiagram-v2 and a Graphviz digraph.
//
// # Cost
//
// Building compiles the graph into a table: each node holds its stage func and its declared next
// states as a short slice of edges, each pointing at its node and saying whether it is terminal.
// After a Stage returns, its next state is compared with its first declared one (the others are
// scanned when it differs), which both validates the transition and gives the next node: no map
// lookup per transition. A Step needs no comparison. Run asks the context for its Done channel
// once: a context that can never end (Background, TODO) costs nothing more, a cancellable one a
// ctx.Err call before each stage. Without an Observer, a run pays one nil check for it. A run
// allocates nothing when T does not escape (TestRunAllocatesNothing checks it); a cancellable
// context whose Done channel nobody asked for makes it at the first run, once.
//
// The floor of any dispatcher is calling the stage funcs through func values in a loop
// (BenchmarkIndirectCalls). Four trivial Stages on a value item (BenchmarkMachineRun) cost about
// twice that floor: 21 ns against 10 to 11 ns of CPU time a run (1.9 to 2.1 times), the lowest of
// 6 alternated runs on a loaded 2-core machine, and 338 instructions against 180 (valgrind, both
// loops and their checks included). What remains is mostly fixed: the call of Run, the one Done
// call, the deferred func that recovers panics (about 40 instructions of the 160 more). Registered with Step, about the same (20 ns); with a cancellable
// context, 28 ns (the ctx.Err calls). For scale: a map lookup per transition made a 4-stage run
// about 20 times as long as the direct calls.
package fsm
