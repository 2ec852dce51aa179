package otel_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagecoach-go/stagecoach/otel"
)

// fakeMsg is a received message: what a decode func reads of it. Its other methods are nil.
type fakeMsg struct {
	natsjs.Msg
	subject string
	data    []byte
	header  nats.Header
}

func (m fakeMsg) Subject() string      { return m.subject }
func (m fakeMsg) Data() []byte         { return m.data }
func (m fakeMsg) Headers() nats.Header { return m.header }
func received(m *nats.Msg) natsjs.Msg {
	return fakeMsg{subject: m.Subject, data: m.Data, header: m.Header}
}
func decodeInt(m natsjs.Msg) (string, int, error) {
	if len(m.Data()) == 0 {
		return "", 0, errBad
	}
	return m.Subject(), int(m.Data()[0]), nil
}

func byName(spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	return tracetest.SpanStub{}
}

func TestHeaderCarrier(t *testing.T) {
	c := otel.HeaderCarrier(nats.Header{})
	c.Set("traceparent", "x")
	c.Set("traceparent", "y")
	c.Set("tracestate", "z")
	assert.Equal(t, "y", c.Get("traceparent"))
	assert.Empty(t, c.Get("Traceparent"), "NATS headers are case-sensitive")
	assert.ElementsMatch(t, []string{"traceparent", "tracestate"}, c.Keys())
	assert.Empty(t, otel.HeaderCarrier(nil).Get("traceparent"))
}

func TestMessagingProducerToConsumer(t *testing.T) {
	for _, asChild := range []bool{false, true} {
		t.Run(map[bool]string{false: "linked", true: "child"}[asChild], func(t *testing.T) {
			r := newRig(t)
			var opts []otel.MessagingOption
			if asChild {
				opts = append(opts, otel.AsChild())
			}
			ms := otel.NewMessaging(r.tel, propagation.TraceContext{}, "ORDERS", "workers", opts...)
			msg := nats.NewMsg("orders.customer-7")
			msg.Data = []byte{41}
			ctx, send := ms.StartSend(context.Background(), msg)
			otel.EndSend(send, nil)
			require.NotEmpty(t, msg.Header.Get("traceparent"), "the send span's context is in the headers")

			om, m := r.machine(t, "orders")
			decode := otel.Decode(ms, decodeInt)
			work := otel.Work(ms, om.Do(m))
			_, item, err := decode(received(msg))
			require.NoError(t, err)
			out, err := work(context.Background(), item)
			require.NoError(t, err)
			assert.Equal(t, 42, out.Item)

			spans := r.spans.GetSpans()
			require.Len(t, spans, 3, "send, process, run")
			sendSpan := trace.SpanFromContext(ctx).SpanContext()
			p := byName(spans, "process ORDERS")
			assert.Equal(t, trace.SpanKindConsumer, p.SpanKind)
			require.Len(t, p.Links, 1)
			assert.Equal(t, sendSpan.SpanID(), p.Links[0].SpanContext.SpanID(), "linked to the producer's span")
			if asChild {
				assert.Equal(t, sendSpan.TraceID(), p.SpanContext.TraceID(), "one trace")
				assert.Equal(t, sendSpan.SpanID(), p.Parent.SpanID())
			} else {
				assert.NotEqual(t, sendSpan.TraceID(), p.SpanContext.TraceID(), "a trace of its own")
				assert.False(t, p.Parent.IsValid(), "a root")
			}
			a := attrs(p.Attributes)
			assert.Equal(t, "nats", a["messaging.system"])
			assert.Equal(t, "process", a["messaging.operation.type"])
			assert.Equal(t, "orders.customer-7", a["messaging.destination.name"])
			assert.Equal(t, "workers", a["messaging.consumer.group.name"])
			run := byName(spans, "orders")
			assert.Equal(t, p.SpanContext.SpanID(), run.Parent.SpanID(), "the run is a child of the process span")
			s := byName(spans, "send ORDERS")
			assert.Equal(t, trace.SpanKindProducer, s.SpanKind)
			assert.Equal(t, "send", attrs(s.Attributes)["messaging.operation.type"])
		})
	}
}

func TestMessagingFailures(t *testing.T) {
	r := newRig(t)
	ms := otel.NewMessaging(r.tel, propagation.TraceContext{}, "ORDERS", "workers")
	decode := otel.Decode(ms, decodeInt)
	_, _, err := decode(received(nats.NewMsg("orders.x")))
	require.ErrorIs(t, err, errBad, "decode's error is returned")
	work := otel.Work(ms, func(_ context.Context, v int) (int, error) { return v, errBad })
	_, item, err := decode(received(&nats.Msg{Subject: "orders.y", Data: []byte{1}}))
	require.NoError(t, err)
	_, err = work(context.Background(), item)
	require.ErrorIs(t, err, errBad)
	panicky := otel.Work(ms, func(context.Context, int) (int, error) { panic("boom") })
	assert.Panics(t, func() { _, _ = panicky(context.Background(), item) })

	spans := r.spans.GetSpans()
	require.Len(t, spans, 3, "a span for the rejected message too")
	for _, s := range spans {
		assert.Equal(t, "process ORDERS", s.Name)
		assert.Equal(t, codes.Error, s.Status.Code)
		assert.Empty(t, s.Links, "no producer context in these headers")
	}
	assert.Contains(t, spans[2].Status.Description, "panicked")
}

func TestMessagingTracingOff(t *testing.T) {
	tel, err := otel.New()
	require.NoError(t, err)
	ms := otel.NewMessaging(tel, propagation.TraceContext{}, "ORDERS", "")
	msg := nats.NewMsg("orders.x")
	_, span := ms.StartSend(context.Background(), msg)
	otel.EndSend(span, nil)
	assert.Empty(t, msg.Header.Get("traceparent"), "no span in ctx: nothing to carry")
	_, item, err := otel.Decode(ms, decodeInt)(received(&nats.Msg{Subject: "s", Data: []byte{3}}))
	require.NoError(t, err)
	out, err := otel.Work(ms, func(_ context.Context, v int) (int, error) { return v * 2, nil })(context.Background(), item)
	require.NoError(t, err)
	assert.Equal(t, 6, out.Item)
}

func TestMessagingNilPanics(t *testing.T) {
	tel, err := otel.New()
	require.NoError(t, err)
	assert.PanicsWithValue(t, "otel: NewMessaging: nil *Telemetry", func() { otel.NewMessaging(nil, propagation.TraceContext{}, "S", "") })
	assert.PanicsWithValue(t, "otel: NewMessaging: nil propagation.TextMapPropagator", func() { otel.NewMessaging(tel, nil, "S", "") })
	ms := otel.NewMessaging(tel, propagation.TraceContext{}, "S", "")
	assert.PanicsWithValue(t, "otel: Inject: nil *nats.Msg", func() { ms.Inject(context.Background(), nil) })
	assert.PanicsWithValue(t, "otel: Decode: nil decode func", func() { otel.Decode[string, int](ms, nil) })
	assert.PanicsWithValue(t, "otel: Work: nil work func", func() { otel.Work[int](ms, nil) })
}
