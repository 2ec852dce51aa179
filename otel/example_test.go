package otel_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/nats-io/nats.go"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/otel"
	"github.com/stagecoach-go/stagecoach/pool"
)

// A machine's runs traced, a span a run with an event a stage.
func ExampleMachine_Do() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	tel, err := otel.New(otel.WithTracerProvider(tp))
	if err != nil {
		panic(err)
	}

	om := otel.NewMachine[State, int](tel, "orders")
	b := builder()
	if err := om.Attach(b); err != nil {
		panic(err)
	}
	m, err := b.Build(Parse)
	if err != nil {
		panic(err)
	}
	run := om.Do(m) // the work func to give pool.Run or group.New
	_, _ = run(context.Background(), 1)
	_, _ = run(context.Background(), -1)

	for _, s := range spans.GetSpans() {
		fmt.Print(s.Name, " ", s.Status.Code, ":")
		for _, e := range s.Events {
			fmt.Print(" ", e.Name)
		}
		fmt.Println()
	}
	// Output:
	// orders Unset: Parse Check Store
	// orders Error: Parse Check exception
}

// Stage metrics of a machine run by a pool, read with a manual reader.
func ExampleMachine_Attach() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	tel, err := otel.New(otel.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}

	om := otel.NewMachine[State, int](tel, "orders")
	b := builder()
	if err := om.Attach(b); err != nil {
		panic(err)
	}
	m, err := b.Build(Parse)
	if err != nil {
		panic(err)
	}
	for range pool.Run(context.Background(), slices.Values([]int{1, 2, -3}), m.Do) {
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if sum, ok := mt.Data.(metricdata.Sum[int64]); ok && mt.Name == "stagecoach.stage.items" {
				for _, dp := range sum.DataPoints {
					st, _ := dp.Attributes.Value(otel.KeyState)
					out, _ := dp.Attributes.Value(otel.KeyOutcome)
					lines = append(lines, fmt.Sprintf("%s %s %s: %d", mt.Name, st.AsString(), out.AsString(), dp.Value))
				}
			}
		}
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// stagecoach.stage.items Check error: 1
	// stagecoach.stage.items Check ok: 2
	// stagecoach.stage.items Parse ok: 3
	// stagecoach.stage.items Store ok: 2
}

// A producer's span context carried to the consumer in a message's headers.
func ExampleMessaging() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	tel, err := otel.New(otel.WithTracerProvider(tp))
	if err != nil {
		panic(err)
	}
	ms := otel.NewMessaging(tel, propagation.TraceContext{}, "ORDERS", "workers")

	msg := nats.NewMsg("orders.42")
	msg.Data = []byte{7}
	_, span := ms.StartSend(context.Background(), msg) // then js.PublishMsg(ctx, msg)
	otel.EndSend(span, nil)

	// In the consuming process: jetstream.New(ctx, js, "ORDERS", "workers", router, decode),
	// with decode := otel.Decode(ms, yourDecode) and router := group.New[string](otel.Work(ms, work)).
	decode := otel.Decode(ms, decodeInt)
	work := otel.Work(ms, func(_ context.Context, v int) (int, error) { return v * 6, nil })
	_, item, _ := decode(received(msg))
	out, _ := work(context.Background(), item)

	fmt.Println(out.Item)
	for _, s := range spans.GetSpans() {
		fmt.Println(s.Name, s.SpanKind, "links:", len(s.Links))
	}
	// Output:
	// 42
	// send ORDERS producer links: 0
	// process ORDERS consumer links: 1
}

// A router's counters and a pool's, read when the meter collects.
func ExampleTelemetry_ObserveRouter() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	tel, err := otel.New(otel.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}
	r := group.New[string](func(_ context.Context, v int) (int, error) { return v, nil })
	defer r.Shutdown(context.Background())
	stop, err := tel.ObserveRouter("orders", r)
	if err != nil {
		panic(err)
	}
	defer stop()
	p, err := otel.NewPool[int](tel, "batch")
	if err != nil {
		panic(err)
	}
	defer p.Close()

	g, err := r.Open(context.Background(), "tenant-1") // the key is no attribute
	if err != nil {
		panic(err)
	}
	for v := range 3 {
		_ = g.Submit(context.Background(), v)
	}
	g.Close()
	for range g.Results() {
	}
	<-g.Done()
	for range p.Run(context.Background(), slices.Values([]int{1, 2}), func(_ context.Context, v int) (int, error) { return v, nil }) {
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if sum, ok := mt.Data.(metricdata.Sum[int64]); ok && strings.HasSuffix(mt.Name, ".completed") {
				fmt.Println(mt.Name, sum.DataPoints[0].Value)
			}
		}
	}
	// Output:
	// stagecoach.router.items.completed 3
	// stagecoach.pool.items.completed 2
}
