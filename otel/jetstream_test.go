package otel_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/jetstream"
	"github.com/stagecoach-go/stagecoach/otel"
)

// ended is a span processor that exports every span that ends and then tells ch its name.
type ended struct {
	sdktrace.SpanProcessor
	ch chan string
}

func (e ended) OnEnd(s sdktrace.ReadOnlySpan) {
	e.SpanProcessor.OnEnd(s)
	e.ch <- s.Name()
}

// TestJetStreamFeedTrace runs a jetstream.Feed on an embedded server with the wrappers: every
// published message's process span is linked to its send span, and the machine's run span of
// its item is the process span's child.
func TestJetStreamFeedTrace(t *testing.T) {
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, DisableJetStreamBanner: true,
	})
	require.NoError(t, err)
	srv.Start()
	require.True(t, srv.ReadyForConnections(10*time.Second))
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	nc, err := nats.Connect(srv.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	ctx := t.Context()
	_, err = js.CreateStream(ctx, natsjs.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}})
	require.NoError(t, err)
	_, err = js.CreateStream(ctx, natsjs.StreamConfig{Name: "DLQ", Subjects: []string{"deadletter.>"}})
	require.NoError(t, err)
	_, err = js.CreateOrUpdateConsumer(ctx, "ORDERS", natsjs.ConsumerConfig{Durable: "workers", AckPolicy: natsjs.AckExplicitPolicy})
	require.NoError(t, err)

	spans := tracetest.NewInMemoryExporter()
	done := ended{SpanProcessor: sdktrace.NewSimpleSpanProcessor(spans), ch: make(chan string, 100)}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(done))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tel, err := otel.New(otel.WithTracerProvider(tp))
	require.NoError(t, err)
	ms := otel.NewMessaging(tel, propagation.TraceContext{}, "ORDERS", "workers")

	const n = 5
	sends := map[trace.SpanID]bool{}
	for i := range n {
		msg := nats.NewMsg(fmt.Sprintf("orders.c%d", i%2))
		msg.Data = []byte{byte(i)}
		pctx, span := ms.StartSend(ctx, msg)
		_, err := js.PublishMsg(pctx, msg)
		otel.EndSend(span, err)
		require.NoError(t, err)
		sends[span.SpanContext().SpanID()] = true
		<-done.ch
	}

	om, m := (&rig{tel: tel}).machine(t, "orders")
	r := group.New[string](otel.Work(ms, om.Do(m)))
	defer r.Shutdown(context.Background())
	f, err := jetstream.New(ctx, js, "ORDERS", "workers", r, otel.Decode(ms, decodeInt))
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- f.Run(runCtx) }()
	for processed := 0; processed < n; {
		if <-done.ch == "process ORDERS" {
			processed++
		}
	}
	stop()
	require.NoError(t, <-ran)

	got := spans.GetSpans()
	runs := map[trace.SpanID]tracetest.SpanStub{} // by parent
	for _, s := range got {
		if s.Name == "orders" {
			runs[s.Parent.SpanID()] = s
		}
	}
	linked := map[trace.SpanID]bool{}
	for _, s := range got {
		if s.Name != "process ORDERS" {
			continue
		}
		assert.Equal(t, trace.SpanKindConsumer, s.SpanKind)
		require.Len(t, s.Links, 1)
		linked[s.Links[0].SpanContext.SpanID()] = true
		run, ok := runs[s.SpanContext.SpanID()]
		if assert.True(t, ok, "the process span has a run span as its child") {
			assert.Equal(t, []string{"Parse", "Check", "Store"}, eventNames(run))
		}
	}
	assert.Equal(t, sends, linked, "each process span is linked to its own send span")
}
