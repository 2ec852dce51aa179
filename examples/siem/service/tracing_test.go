package service_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

var semconvRoute = attribute.String("http.route", "POST /events")

// byName sorts the spans by name, checking that each has the kind its name calls for.
func byName(t *testing.T, spans tracetest.SpanStubs, kinds map[string]trace.SpanKind) map[string][]tracetest.SpanStub {
	t.Helper()
	out := map[string][]tracetest.SpanStub{}
	for _, s := range spans {
		out[s.Name] = append(out[s.Name], s)
		if k, ok := kinds[s.Name]; ok {
			assert.Equal(t, k, s.SpanKind, "kind of %q", s.Name)
		}
	}
	return out
}

// TestJetStreamTraceFromPostToEveryStage posts two events to a service in JetStream mode on an
// embedded NATS server (with the tests' credentials) and checks their one trace: the request's
// SERVER span, a PRODUCER span an event published (its child, its context carried in the
// message's headers), a CONSUMER span "process <stream>" an event taken (the producer span's
// child and linked to it), and the machine's run span under it, with an event a stage, in order.
func TestJetStreamTraceFromPostToEveryStage(t *testing.T) {
	ns := startNATS(t)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
	db := filepath.Join(t.TempDir(), "siem.db")
	in := startInstance(t, service.Config{DB: db, NATS: authURL(ns), TracerProvider: tp})

	p, err := in.post(in.svc.DemoKey(), ndjson(event("t1", 9, "traced"), event("t2", 2, "traced too")))
	require.NoError(t, err)
	require.Len(t, p.queued(t), 2)
	waitStored(t, openDB(t, db), 2, 15*time.Second)
	require.NoError(t, in.stop(), "graceful stop: every event taken is finished, every span ended")

	send, process := "send "+service.DefaultStream, "process "+service.DefaultStream
	spans := byName(t, exp.GetSpans(), map[string]trace.SpanKind{
		"POST /events": trace.SpanKindServer, send: trace.SpanKindProducer,
		process: trace.SpanKindConsumer, "siem": trace.SpanKindInternal,
	})
	require.Len(t, spans["POST /events"], 1)
	server := spans["POST /events"][0]
	assert.False(t, server.Parent.IsValid(), "the request's span is the root: the client sent no traceparent")
	tid := server.SpanContext.TraceID()
	require.Len(t, spans[send], 2, "a send span an event")
	require.Len(t, spans[process], 2, "a process span an event")
	require.Len(t, spans["siem"], 2, "a run span an event")

	sends := map[trace.SpanID]bool{}
	for _, s := range spans[send] {
		assert.Equal(t, tid, s.SpanContext.TraceID(), "send: one trace")
		assert.Equal(t, server.SpanContext.SpanID(), s.Parent.SpanID(), "send: the request's child")
		sends[s.SpanContext.SpanID()] = true
	}
	processes := map[trace.SpanID]bool{}
	for _, s := range spans[process] {
		assert.Equal(t, tid, s.SpanContext.TraceID(), "process: one trace")
		assert.True(t, s.Parent.IsRemote(), "process: its parent came in the message's headers")
		assert.True(t, sends[s.Parent.SpanID()], "process: a send span's child")
		require.Len(t, s.Links, 1, "process: linked to its producer")
		assert.Equal(t, s.Parent.SpanID(), s.Links[0].SpanContext.SpanID(), "process: linked to the span it is the child of")
		delete(sends, s.Parent.SpanID()) // each send span has one process span
		processes[s.SpanContext.SpanID()] = true
	}
	assert.Empty(t, sends, "every send span was processed once")
	for _, s := range spans["siem"] {
		assert.Equal(t, tid, s.SpanContext.TraceID(), "run: one trace")
		assert.True(t, processes[s.Parent.SpanID()], "run: a process span's child")
		delete(processes, s.Parent.SpanID())
		var stages []string
		for _, ev := range s.Events {
			stages = append(stages, ev.Name)
		}
		assert.Equal(t, []string{"authorize", "enrich", "persist", "alert", "distribute"}, stages, "run: an event a stage, in order")
	}
	assert.Empty(t, processes, "every process span has one run span")
}

// TestGroupDesignTraceFollowsTheCaller posts an event with a W3C traceparent header to the group
// design: the request's SERVER span is the caller's span's child, and the machine's run span the
// request span's child, with its stage events.
func TestGroupDesignTraceFollowsTheCaller(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
	in := startInstance(t, service.Config{DB: filepath.Join(t.TempDir(), "siem.db"), TracerProvider: tp})

	ctx, caller := tp.Tracer("client").Start(context.Background(), "client")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url+"/events", strings.NewReader(ndjson(event("g1", 3, "traced"))))
	require.NoError(t, err)
	req.Header = withKey(req.Header, in.svc.DemoKey())
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode)
	caller.End()
	require.NoError(t, in.stop(), "Serve returns once every request has ended: its span too")

	spans := byName(t, exp.GetSpans(), map[string]trace.SpanKind{"POST /events": trace.SpanKindServer, "siem": trace.SpanKindInternal})
	require.Len(t, spans["POST /events"], 1)
	server := spans["POST /events"][0]
	assert.Equal(t, caller.SpanContext().SpanID(), server.Parent.SpanID(), "the request's span is the caller's child")
	assert.True(t, server.Parent.IsRemote(), "its parent came in the traceparent header")
	assert.Contains(t, server.Attributes, semconvRoute, "the route is an attribute")
	require.Len(t, spans["siem"], 1)
	run := spans["siem"][0]
	assert.Equal(t, server.SpanContext.SpanID(), run.Parent.SpanID(), "the run's span is the request's child")
	assert.Equal(t, caller.SpanContext().TraceID(), run.SpanContext.TraceID(), "one trace")
	assert.Len(t, run.Events, 5, "an event a stage")
}

// TestTracedWebsocketUpgrade checks that the request span's response writer hands the
// connection over to the websocket upgrade (a writer without Hijack fails the dial).
func TestTracedWebsocketUpgrade(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
	e := start(t, service.Config{TracerProvider: tp})
	c := e.dial(t, nil)
	require.NoError(t, c.CloseNow())
	code, res, text := e.post(t, e.key, ndjson(event("w1", 3, "after the upgrade")))
	require.Equal(t, http.StatusOK, code, text)
	require.Len(t, res, 1)
}
