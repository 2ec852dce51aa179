package otel

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// HeaderCarrier adapts a message's nats.Header to a propagation.TextMapCarrier, so that a
// propagator writes a span context into the headers of a message to publish and reads it back
// from a received one. NATS header keys are case-sensitive; the W3C propagator's are lowercase.
type HeaderCarrier nats.Header

var _ propagation.TextMapCarrier = HeaderCarrier(nil)

// Get returns the first value of key.
func (c HeaderCarrier) Get(key string) string { return nats.Header(c).Get(key) }

// Set sets key to the single value value. Set on a nil HeaderCarrier panics, as a write to a nil
// map does: [Messaging.Inject] makes the header when the message has none.
func (c HeaderCarrier) Set(key, value string) { nats.Header(c).Set(key, value) }

// Keys returns the header's keys, in no order.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// Messaging makes the spans of messages published to and consumed from a NATS JetStream
// stream, as OpenTelemetry's messaging semantic conventions name them: "send <stream>" (kind
// PRODUCER) around a publication, "process <stream>" (kind CONSUMER) around the work on a
// received message, linked to the producer's span context carried in the message's headers.
// Make it with [NewMessaging]; it is safe for concurrent use.
type Messaging struct {
	tracer  trace.Tracer // nil: tracing off
	prop    propagation.TextMapPropagator
	send    string // span names
	process string
	attrs   []attribute.KeyValue // common to both
	asChild bool
}

// A MessagingOption configures a [Messaging].
type MessagingOption interface{ applyMessaging(*Messaging) }

type messagingOption func(*Messaging)

func (f messagingOption) applyMessaging(m *Messaging) { f(m) }

// AsChild makes a process span the child of the producer's span, as well as linked to it, so
// that a message's publication and processing are one trace. By default a process span is the
// root of a trace of its own, linked to the producer's: a message can be processed more than
// once (redelivered), by any process.
func AsChild() MessagingOption { return messagingOption(func(m *Messaging) { m.asChild = true }) }

// NewMessaging returns the span maker of the stream named stream (the messaging.destination part
// of the span names: a stream name, bounded, never a subject that carries a key), consumed by the
// durable consumer named consumer (messaging.consumer.group.name; "" for a producer only). It
// uses t's tracer and prop to write and read span contexts in headers (typically
// propagation.TraceContext{}, or otel.GetTextMapPropagator()). With t's tracing off, Inject
// still writes ctx's span context, and the wrappers make no span.
//
// NewMessaging panics if t or prop is nil.
func NewMessaging(t *Telemetry, prop propagation.TextMapPropagator, stream, consumer string, opts ...MessagingOption) *Messaging {
	if t == nil {
		panic("otel: NewMessaging: nil *Telemetry")
	}
	if prop == nil {
		panic("otel: NewMessaging: nil propagation.TextMapPropagator")
	}
	m := &Messaging{tracer: t.tracer, prop: prop, send: "send " + stream, process: "process " + stream}
	m.attrs = []attribute.KeyValue{semconv.MessagingSystemKey.String("nats")}
	if consumer != "" {
		m.attrs = append(m.attrs, semconv.MessagingConsumerGroupName(consumer))
	}
	for _, o := range opts {
		o.applyMessaging(m)
	}
	return m
}

// Inject writes ctx's span context into msg's headers, making them if msg has none.
//
// Inject panics if msg is nil.
func (m *Messaging) Inject(ctx context.Context, msg *nats.Msg) {
	if msg == nil {
		panic("otel: Inject: nil *nats.Msg")
	}
	if msg.Header == nil {
		msg.Header = nats.Header{}
	}
	m.prop.Inject(ctx, HeaderCarrier(msg.Header))
}

// StartSend starts the "send <stream>" span of msg's publication, child of ctx's span, and
// writes its context into msg's headers (with tracing off, ctx's). Publish msg with the returned
// context, then end the span, with [EndSend] to record a failure.
//
// StartSend panics if msg is nil.
func (m *Messaging) StartSend(ctx context.Context, msg *nats.Msg) (context.Context, trace.Span) {
	if msg == nil {
		panic("otel: StartSend: nil *nats.Msg")
	}
	span := trace.SpanFromContext(ctx)
	if m.tracer != nil {
		attrs := append(m.attrs[:len(m.attrs):len(m.attrs)],
			semconv.MessagingOperationName("send"), semconv.MessagingOperationTypeSend,
			semconv.MessagingDestinationName(msg.Subject), semconv.MessagingMessageBodySize(len(msg.Data)))
		ctx, span = m.tracer.Start(ctx, m.send, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	}
	m.Inject(ctx, msg)
	return ctx, span
}

// EndSend ends a span StartSend began, with status Error and the error recorded if err is not
// nil (the publication's error).
func EndSend(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Message is an item decoded from a message by a func [Decode] wrapped, with what its process
// span needs of the message: the producer's span context and the subject.
type Message[T any] struct {
	Item     T
	producer trace.SpanContext
	subject  string
	size     int
}

// Decode wraps a jetstream feed's decode func so that each item carries its message's producer
// span context to the work func [Work] wraps, which makes the process span. A message decode
// rejects gets its process span at once, ended with decode's error.
//
// Decode panics if m or decode is nil.
func Decode[K comparable, T any](m *Messaging, decode func(natsjs.Msg) (K, T, error)) func(natsjs.Msg) (K, Message[T], error) {
	if m == nil {
		panic("otel: Decode: nil *Messaging")
	}
	if decode == nil {
		panic("otel: Decode: nil decode func")
	}
	return func(msg natsjs.Msg) (K, Message[T], error) {
		k, v, err := decode(msg)
		mv := Message[T]{Item: v}
		if m.tracer == nil {
			return k, mv, err
		}
		mv.producer = trace.SpanContextFromContext(m.prop.Extract(context.Background(), HeaderCarrier(msg.Headers())))
		mv.subject, mv.size = msg.Subject(), len(msg.Data())
		if err != nil {
			_, span := m.startProcess(context.Background(), mv.producer, mv.subject, mv.size)
			endProcess(span, err)
		}
		return k, mv, err
	}
}

// Work wraps the work func of a router a jetstream feed feeds (typically an fsm.Machine's Do, or
// [Machine.Do]) so that each item is worked on in its "process <stream>" span, which work's ctx
// carries, linked to the span that published its message; the span's status is Error, with the
// error recorded, when work fails. With tracing off it calls work and nothing more.
//
// Work panics if m or work is nil.
func Work[T any](m *Messaging, work func(context.Context, T) (T, error)) func(context.Context, Message[T]) (Message[T], error) {
	if m == nil {
		panic("otel: Work: nil *Messaging")
	}
	if work == nil {
		panic("otel: Work: nil work func")
	}
	if m.tracer == nil {
		return func(ctx context.Context, mv Message[T]) (Message[T], error) {
			v, err := work(ctx, mv.Item)
			mv.Item = v
			return mv, err
		}
	}
	return func(ctx context.Context, mv Message[T]) (Message[T], error) {
		ctx, span := m.startProcess(ctx, mv.producer, mv.subject, mv.size)
		err := errNoReturn
		defer func() { endProcess(span, err) }() // also when work panics or calls Goexit
		var v T
		v, err = work(ctx, mv.Item)
		mv.Item = v
		return mv, err
	}
}

// errNoReturn is the error of a process span whose work func panicked or called runtime.Goexit
// instead of returning: the router makes the item's error of it.
var errNoReturn = errors.New("otel: the work func panicked or called runtime.Goexit")

// startProcess starts the process span of a message, linked to its producer's span and, with
// AsChild, its child.
func (m *Messaging) startProcess(ctx context.Context, producer trace.SpanContext, subject string, size int) (context.Context, trace.Span) {
	attrs := append(m.attrs[:len(m.attrs):len(m.attrs)],
		semconv.MessagingOperationName("process"), semconv.MessagingOperationTypeProcess,
		semconv.MessagingDestinationName(subject), semconv.MessagingMessageBodySize(size))
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...)}
	if producer.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: producer}))
	}
	if m.asChild && producer.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, producer)
	} else {
		opts = append(opts, trace.WithNewRoot())
	}
	return m.tracer.Start(ctx, m.process, opts...)
}

func endProcess(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
