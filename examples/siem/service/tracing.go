package service

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/stagecoach-go/stagecoach/fsm"
	stageotel "github.com/stagecoach-go/stagecoach/otel"
)

// TraceScope is the instrumentation scope of the service's HTTP server spans.
const TraceScope = "github.com/stagecoach-go/stagecoach/examples/siem/service"

// tracing makes the service's spans when Config.TracerProvider is set, and nothing otherwise:
//   - a SERVER span a request ("POST /events"), child of the caller's span when the request
//     carries a W3C traceparent header;
//   - a span a run through the machine ("siem"), child of the span of the context the run is given,
//     with an event a stage (the otel module's Machine);
//   - in JetStream mode, a "send <stream>" PRODUCER span an event published, child of the request's
//     span, whose context goes into the message's headers, and a "process <stream>" CONSUMER span
//     an event taken from the stream, linked to the producer's span and its child, so that a request,
//     its publication and the processing of each of its events are one trace (stageotel.AsChild).
//
// With no provider, every wrapper hands back what it wraps and the machine keeps its fastest path.
type tracing struct {
	tel     *stageotel.Telemetry
	machine *stageotel.Machine[State, *Event]
	ms      *stageotel.Messaging
	tracer  trace.Tracer // nil: off
	prop    propagation.TextMapPropagator
}

// machineName is the name of the machine's run spans (and its series' machine label).
const machineName = "siem"

func newTracing(cfg Config) *tracing {
	var opts []stageotel.Option
	t := &tracing{prop: propagation.TraceContext{}}
	if cfg.TracerProvider != nil {
		opts = append(opts, stageotel.WithTracerProvider(cfg.TracerProvider))
		t.tracer = cfg.TracerProvider.Tracer(TraceScope)
	}
	tel, err := stageotel.New(opts...)
	if err != nil {
		panic(err) // New fails only on a meter provider's instruments, and none is given
	}
	t.tel = tel
	t.machine = stageotel.NewMachine[State, *Event](tel, machineName)
	t.ms = stageotel.NewMessaging(tel, t.prop, cfg.Stream, cfg.Consumer, stageotel.AsChild())
	if !tel.Tracing() { // a no-op provider counts as none
		t.tracer = nil
	}
	return t
}

// observer returns own's hooks followed by the machine adapter's, which add each stage's event to
// the run's span.
func (t *tracing) observer(own fsm.Observer[State]) fsm.Observer[State] {
	o, err := t.machine.Observer()
	if err != nil {
		panic(err) // one Service, one adapter, asked once: an error here is a bug in this file
	}
	return joinObservers(own, o)
}

// do returns the work func running an event through m in its run span.
func (t *tracing) do(m *fsm.Machine[State, *Event]) func(context.Context, *Event) (*Event, error) {
	return t.machine.Do(m)
}

// joinObservers returns the hooks calling a's and then b's.
func joinObservers(a, b fsm.Observer[State]) fsm.Observer[State] {
	var o fsm.Observer[State]
	switch {
	case a.Enter == nil:
		o.Enter = b.Enter
	case b.Enter == nil:
		o.Enter = a.Enter
	default:
		o.Enter = func(ctx context.Context, s State) { a.Enter(ctx, s); b.Enter(ctx, s) }
	}
	switch {
	case a.Leave == nil:
		o.Leave = b.Leave
	case b.Leave == nil:
		o.Leave = a.Leave
	default:
		o.Leave = func(ctx context.Context, s, next State, took time.Duration, err error) {
			a.Leave(ctx, s, next, took, err)
			b.Leave(ctx, s, next, took, err)
		}
	}
	return o
}

// serve wraps h so that each request runs in a SERVER span named after its route ("POST
// /events"; the method alone for a request no route took), with the method, the path, the route
// and the response's status code as attributes, and status Error for a 5xx answer.
func (t *tracing) serve(h http.Handler) http.Handler {
	if t.tracer == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		h.ServeHTTP(sw, r)
		if r.Pattern != "" { // set by the ServeMux: "POST /events", bounded
			span.SetName(r.Pattern)
			span.SetAttributes(semconv.HTTPRoute(r.Pattern))
		}
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		span.SetAttributes(semconv.HTTPResponseStatusCode(code))
		if code >= 500 {
			span.SetStatus(codes.Error, http.StatusText(code))
		}
	})
}

// statusWriter keeps the status code of a response. It hands the connection over to the
// websocket upgrade (Hijack) and lets http.ResponseController reach the writer it wraps.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
