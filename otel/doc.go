// Package otel records OpenTelemetry traces and metrics of stagecoach pipelines: a span a run
// of an fsm.Machine with an event a stage, stage durations and outcomes, the counters of
// group.Routers and of pool runs, and the spans of messages through NATS JetStream, named as
// OpenTelemetry's messaging semantic conventions name them. It depends on OpenTelemetry's API
// only; the SDK and the exporters are the caller's.
//
//	tel, err := otel.New(otel.WithTracerProvider(tp), otel.WithMeterProvider(mp))
//	om := otel.NewMachine[State, Order](tel, "orders")
//	b := fsm.NewBuilder[State, Order]().Stage(...)...
//	if err := om.Attach(b); err != nil { ... }
//	m, err := b.Build(Validate)
//	r := group.New[string](om.Do(m))
//	stop, err := tel.ObserveRouter("orders", r)
//
// # Providers
//
// [New] makes the [Telemetry] every adapter records to. Tracing is on with [WithTracerProvider],
// metrics with [WithMeterProvider]; without them, or with a no-op provider, that signal is off and
// costs nothing: the adapters hand back the machine's own Do and set no hook. There is no fallback
// on the global providers: pass otel.GetTracerProvider() and otel.GetMeterProvider() to use them.
// A nil provider panics, naming it.
//
// # Machines
//
// [NewMachine] makes the adapter of one fsm.Machine. [Machine.Attach] sets its fsm.Observer on
// the machine's builder (with another adapter's hooks too, since a builder has one Observer);
// [Machine.Do] wraps the built machine's run in a span. An adapter attaches once: a second Attach,
// or another adapter of the same name, is refused with [ErrAttached].
//
// A run's span is named after the machine (kind INTERNAL), child of the span in the run's
// context; its attributes are stagecoach.machine and stagecoach.state, the state the run ended
// in; a failed run has status Error and its error recorded. Each stage adds an event named after
// its state, with stagecoach.next_state, stagecoach.outcome (ok, error, panic) and
// stagecoach.stage.duration (seconds). With [StageSpans] a stage is a child span instead.
// Events are the default because they cost less (see Cost) and because a stage's span would not
// be in the stage's context: an fsm.Observer's Enter cannot hand the stage a new context, so the
// stage's own outgoing calls would be children of the run's span anyway.
//
// # Metrics
//
// All in base units, with bounded attributes:
//   - stagecoach.stage.duration, histogram, s, by stagecoach.machine and stagecoach.state, with
//     [StageBuckets] (1 us to 10 s);
//   - stagecoach.stage.items, observable counter, {item}, by machine, state and
//     stagecoach.outcome (an atomic a state and outcome, read at collection);
//   - stagecoach.router.items.{submitted,completed,failed} (observable counters) and
//     stagecoach.router.items.{queued,in_flight} (observable gauges) by stagecoach.router, and
//     stagecoach.router.groups.open, from [Telemetry.ObserveRouter];
//   - the same stagecoach.pool.items.* by stagecoach.pool, from a [Pool], which runs pool.Run and
//     counts its items (package pool keeps no counters);
//   - stagecoach.group.items.* by stagecoach.router and stagecoach.group, from
//     [Telemetry.ObserveGroup], with [WithGroupKeys] only.
//
// # Cardinality
//
// No series carries a value of an item or a group's key unless asked: a key per connection,
// tenant or request would make a series per key, which the backend keeps in memory for as long
// as it keeps the series, and which grows without bound. Machine, router and pool names and
// states are the caller's constants. Group keys are attributes only of [Telemetry.ObserveGroup],
// which is refused with [ErrGroupKeys] unless the Telemetry was made [WithGroupKeys]. Spans,
// whose attributes are not series, carry the message subject.
//
// # JetStream
//
// [Messaging] makes the spans of a stream's messages. A producer calls [Messaging.StartSend]
// (a "send <stream>" span, kind PRODUCER, whose context goes into the message's headers through
// [HeaderCarrier]) or [Messaging.Inject]. A jetstream.Feed's decode func wrapped by [Decode]
// reads the producer's span context from the headers into a [Message]; the router's work func
// wrapped by [Work] runs each item in a "process <stream>" span, kind CONSUMER, linked to the
// producer's span (and its child with [AsChild]), whose context the work func gets, so that a
// [Machine.Do] inside makes the run's span its child.
//
// # Cost
//
// With a signal off nothing is hooked: the machine runs as without the adapter. Metrics
// allocate nothing a stage (TestMetricsAllocateNothing): a stage's record is the fsm Observer's
// two clock readings, a map lookup of the state, one histogram Record and one atomic addition
// (the stage items counter is observable, read at collection). BenchmarkCost, on a loaded 2-core
// machine, in CPU time an item (docs/observability.md has the tables): metrics add 12 to 16% to
// W2 (4 stages of 2 us; 12% in the quietest run), half of it the Observer's own; tracing, a span a run and an event a
// stage, about 10 us and 26 allocations an item of 4 stages, a span a stage 1.7 times as much on
// trivial stages. A [Pool] adds a few atomic additions an item.
package otel
