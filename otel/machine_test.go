package otel_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/otel"
)

func attrs(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

func eventNames(s tracetest.SpanStub) []string {
	var names []string
	for _, e := range s.Events {
		names = append(names, e.Name)
	}
	return names
}

func TestMachineRunSpanWithStageEvents(t *testing.T) {
	r := newRig(t)
	om, m := r.machine(t, "orders")
	run := om.Do(m)

	ctx, parent := r.tp.Tracer("test").Start(context.Background(), "request")
	got, err := run(ctx, 41)
	parent.End()
	require.NoError(t, err)
	assert.Equal(t, 42, got)

	spans := r.spans.GetSpans()
	require.Len(t, spans, 2, "the run's span and the parent")
	s := spans[0]
	assert.Equal(t, "orders", s.Name)
	assert.Equal(t, trace.SpanKindInternal, s.SpanKind)
	assert.Equal(t, parent.SpanContext().SpanID(), s.Parent.SpanID(), "child of the span in ctx")
	assert.Equal(t, map[string]string{"stagecoach.machine": "orders", "stagecoach.state": "Done"}, attrs(s.Attributes))
	assert.Equal(t, codes.Unset, s.Status.Code)
	assert.Equal(t, []string{"Parse", "Check", "Store"}, eventNames(s))
	ev := attrs(s.Events[1].Attributes)
	assert.Equal(t, "Store", ev["stagecoach.next_state"])
	assert.Equal(t, "ok", ev["stagecoach.outcome"])
	assert.Contains(t, ev, "stagecoach.stage.duration")
}

func TestMachineFailedRunSpan(t *testing.T) {
	r := newRig(t)
	om, m := r.machine(t, "orders")
	run := om.Do(m)

	_, err := run(context.Background(), -1)
	require.ErrorIs(t, err, errBad)
	_, err = run(context.Background(), -100)
	var pe *fsm.PanicError
	require.ErrorAs(t, err, &pe)

	spans := r.spans.GetSpans()
	require.Len(t, spans, 2)
	for i, want := range []string{"error", "panic"} {
		s := spans[i]
		assert.Equal(t, codes.Error, s.Status.Code, "span %d", i)
		assert.Contains(t, s.Status.Description, "Check", "the error names the failing state")
		assert.Equal(t, "Check", attrs(s.Attributes)["stagecoach.state"], "the state the run failed in")
		require.Equal(t, []string{"Parse", "Check", "exception"}, eventNames(s), "span %d", i)
		assert.Equal(t, want, attrs(s.Events[1].Attributes)["stagecoach.outcome"])
	}
}

func TestMachineStageSpans(t *testing.T) {
	r := newRig(t)
	om, m := r.machine(t, "orders", otel.StageSpans())
	_, err := om.Do(m)(context.Background(), -1)
	require.Error(t, err)

	spans := r.spans.GetSpans()
	require.Len(t, spans, 3, "Parse, Check and the run")
	run := spans[2]
	assert.Equal(t, "orders", run.Name)
	assert.Empty(t, eventNames(run)[:len(run.Events)-1], "no stage event: stages are spans")
	for i, want := range []string{"Parse", "Check"} {
		assert.Equal(t, want, spans[i].Name)
		assert.Equal(t, run.SpanContext.SpanID(), spans[i].Parent.SpanID(), "%s is a child of the run", want)
		assert.Equal(t, want, attrs(spans[i].Attributes)["stagecoach.state"])
	}
	assert.Equal(t, codes.Unset, spans[0].Status.Code)
	assert.Equal(t, codes.Error, spans[1].Status.Code)
}

func TestMachineMetrics(t *testing.T) {
	r := newRig(t)
	om, m := r.machine(t, "orders")
	run := om.Do(m)
	for _, v := range []int{1, 2, 3, -1, -100} {
		_, _ = run(context.Background(), v)
	}
	data := r.collect(t)
	assert.Equal(t, uint64(5), histCount(data, "orders", "Parse"))
	assert.Equal(t, uint64(5), histCount(data, "orders", "Check"))
	assert.Equal(t, uint64(3), histCount(data, "orders", "Store"))
	for _, tt := range []struct {
		state, outcome string
		want           int64
	}{
		{"Parse", "ok", 5}, {"Check", "ok", 3}, {"Check", "error", 1}, {"Check", "panic", 1}, {"Store", "ok", 3},
	} {
		got, ok := r.point(t, data, "stagecoach.stage.items",
			map[string]string{"stagecoach.machine": "orders", "stagecoach.state": tt.state, "stagecoach.outcome": tt.outcome})
		assert.True(t, ok, "%s/%s has a series", tt.state, tt.outcome)
		assert.Equal(t, tt.want, got, "items of %s/%s", tt.state, tt.outcome)
	}
}

func TestAttachTwiceIsRefused(t *testing.T) {
	r := newRig(t)
	om := otel.NewMachine[State, int](r.tel, "orders")
	require.NoError(t, om.Attach(builder()))
	assert.ErrorIs(t, om.Attach(builder()), otel.ErrAttached, "the same adapter again")
	_, err := om.Observer()
	assert.ErrorIs(t, err, otel.ErrAttached, "Observer counts as attaching")
	other := otel.NewMachine[State, int](r.tel, "orders")
	assert.ErrorIs(t, other.Attach(builder()), otel.ErrAttached, "another adapter of the same name")
	assert.NoError(t, otel.NewMachine[State, int](r.tel, "billing").Attach(builder()), "another name")
}

func TestAttachToBuiltBuilderPanicsAndFreesTheAdapter(t *testing.T) {
	r := newRig(t)
	b := builder()
	_, err := b.Build(Parse)
	require.NoError(t, err)
	om := otel.NewMachine[State, int](r.tel, "orders")
	assert.Panics(t, func() { _ = om.Attach(b) })
	assert.NoError(t, om.Attach(builder()), "a refused attach does not count")
}

func TestAttachJoinsAnotherObserver(t *testing.T) {
	r := newRig(t)
	om := otel.NewMachine[State, int](r.tel, "orders")
	var left []State
	b := builder()
	require.NoError(t, om.Attach(b, fsm.Observer[State]{Enter: func(context.Context, State) {}, Leave: func(_ context.Context, s, _ State, _ time.Duration, _ error) {
		left = append(left, s)
	}}))
	m, err := b.Build(Parse)
	require.NoError(t, err)
	_, err = om.Do(m)(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, []State{Parse, Check, Store}, left, "the other observer's hooks ran")
	assert.Equal(t, uint64(1), histCount(r.collect(t), "orders", "Store"), "and ours")
}

func TestNilArgumentsPanicNamingThem(t *testing.T) {
	assert.PanicsWithValue(t, "otel: WithTracerProvider: nil trace.TracerProvider", func() { otel.WithTracerProvider(nil) })
	assert.PanicsWithValue(t, "otel: WithMeterProvider: nil metric.MeterProvider", func() { otel.WithMeterProvider(nil) })
	assert.PanicsWithValue(t, "otel: NewMachine: nil *Telemetry", func() { otel.NewMachine[State, int](nil, "m") })
	tel, err := otel.New()
	require.NoError(t, err)
	assert.PanicsWithValue(t, "otel: Do: nil *fsm.Machine", func() { otel.NewMachine[State, int](tel, "m").Do(nil) })
	assert.PanicsWithValue(t, "otel: ObserveRouter: nil Router", func() { _, _ = tel.ObserveRouter("r", nil) })
	assert.PanicsWithValue(t, "otel: NewPool: nil *Telemetry", func() { _, _ = otel.NewPool[int](nil, "p") })
}

func TestOffCostsNothing(t *testing.T) {
	for name, opts := range map[string][]otel.Option{
		"no provider": nil,
		"noop":        {otel.WithTracerProvider(tracenoop.NewTracerProvider()), otel.WithMeterProvider(metricnoop.NewMeterProvider())},
	} {
		t.Run(name, func(t *testing.T) {
			tel, err := otel.New(opts...)
			require.NoError(t, err)
			assert.False(t, tel.Tracing())
			assert.False(t, tel.Metrics())
			om := otel.NewMachine[State, int](tel, "orders")
			o, err := om.Observer()
			require.NoError(t, err)
			assert.Nil(t, o.Enter, "no hook: the machine pays nothing")
			assert.Nil(t, o.Leave)
			m, err := builder().Build(Parse)
			require.NoError(t, err)
			run := om.Do(m)
			ctx := context.Background()
			allocs := testing.AllocsPerRun(100, func() { _, _ = run(ctx, 1) })
			assert.Zero(t, allocs)
		})
	}
}

func TestNoopTracerProviderPointerIsOff(t *testing.T) {
	tp := tracenoop.NewTracerProvider()
	tel, err := otel.New(otel.WithTracerProvider(&tp))
	require.NoError(t, err)
	assert.False(t, tel.Tracing())
	tel, err = otel.New(otel.WithTracerProvider(sdktrace.NewTracerProvider()))
	require.NoError(t, err)
	assert.True(t, tel.Tracing())
}

// TestMetricsAllocateNothing: recording a stage's duration and outcome allocates nothing (the
// attribute sets and option slices are made once a state). It found 1 allocation a stage (3 a
// run of this machine): an option passed alone makes its variadic slice escape, and a
// *PanicError declared for errors.As escaped on every call.
func TestMetricsAllocateNothing(t *testing.T) {
	r := newRig(t)
	_, m := r.machine(t, "orders")
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _, _, _ = m.Run(ctx, 1) }))
}

func TestMachineGoexitEndsTheSpans(t *testing.T) {
	for _, opts := range [][]otel.MachineOption{nil, {otel.StageSpans()}} {
		r := newRig(t)
		om := otel.NewMachine[State, int](r.tel, "orders", opts...)
		b := fsm.NewBuilder[State, int]().
			Step(Parse, func(_ context.Context, v int) (int, error) { runtime.Goexit(); return v, nil }, Done).
			Terminal(Done)
		require.NoError(t, om.Attach(b))
		m, err := b.Build(Parse)
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = om.Do(m)(context.Background(), 1)
		}()
		<-done
		spans := r.spans.GetSpans()
		require.Len(t, spans, 1+len(opts), "every span ended")
		run := spans[len(spans)-1]
		assert.Equal(t, "orders", run.Name)
		assert.Equal(t, codes.Error, run.Status.Code)
		assert.Contains(t, run.Status.Description, "Goexit")
	}
}
