package otel_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/otel"
	"github.com/stagecoach-go/stagecoach/pool"
)

// item draws an item of the test machine: ok, failing in Check, or panicking in Check.
func item() *rapid.Generator[int] {
	return rapid.OneOf(rapid.IntRange(0, 100), rapid.IntRange(-5, -1), rapid.Just(-100))
}

// TestPropertyMachineRecordsEveryStage checks, over random items run through the test machine
// on random workers, that the stage counter and histogram count exactly the stages each item
// ran, by outcome, and that every run has one span with an event a stage it ran.
func TestPropertyMachineRecordsEveryStage(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		items := rapid.SliceOf(item()).Draw(rt, "items")
		workers := rapid.IntRange(1, 4).Draw(rt, "workers")
		r := newRig(t)
		om, m := r.machine(t, fmt.Sprint("m", len(items), workers))
		for range pool.Run(context.Background(), slices.Values(items), om.Do(m), pool.Workers(workers)) {
		}

		want := map[[2]string]int64{} // the model: stages each item runs
		events := 0
		for _, v := range items {
			want[[2]string{"Parse", "ok"}]++
			switch {
			case v == -100:
				want[[2]string{"Check", "panic"}]++
				events += 2 + 1 // Parse, Check, exception
			case v < 0:
				want[[2]string{"Check", "error"}]++
				events += 2 + 1
			default:
				want[[2]string{"Check", "ok"}]++
				want[[2]string{"Store", "ok"}]++
				events += 3
			}
		}
		data := r.collect(t)
		name := fmt.Sprint("m", len(items), workers)
		for _, st := range []string{"Parse", "Check", "Store"} {
			var stageTotal int64
			for _, out := range []string{"ok", "error", "panic"} {
				got, _ := r.point(t, data, "stagecoach.stage.items",
					map[string]string{"stagecoach.machine": name, "stagecoach.state": st, "stagecoach.outcome": out})
				if got != want[[2]string{st, out}] {
					rt.Fatalf("items of %s/%s = %d, want %d", st, out, got, want[[2]string{st, out}])
				}
				stageTotal += got
			}
			if h := histCount(data, name, st); int64(h) != stageTotal {
				rt.Fatalf("histogram count of %s = %d, want %d", st, h, stageTotal)
			}
		}
		spans := r.spans.GetSpans()
		gotEvents := 0
		for _, s := range spans {
			gotEvents += len(s.Events)
		}
		if len(spans) != len(items) || gotEvents != events {
			rt.Fatalf("%d spans with %d events, want %d with %d", len(spans), gotEvents, len(items), events)
		}
	})
}

// TestPropertyPoolCounters checks a Pool's counters against what its consumer saw, over random
// item counts, failures, workers, ordering and early stops: once a run has ended nothing is
// queued or in flight, completed and failed are the results delivered, and every item is
// submitted when the consumer took them all.
func TestPropertyPoolCounters(t *testing.T) {
	tel, err := otel.New()
	require.NoError(t, err)
	rapid.Check(t, func(rt *rapid.T) {
		items := rapid.SliceOf(rapid.IntRange(-3, 10)).Draw(rt, "items")
		workers := rapid.IntRange(1, 4).Draw(rt, "workers")
		take := rapid.IntRange(0, len(items)+1).Draw(rt, "take")
		opts := []pool.Option{pool.Workers(workers)}
		if rapid.Bool().Draw(rt, "ordered") {
			opts = append(opts, pool.Ordered())
		}
		p, err := otel.NewPool[int](tel, "p")
		require.NoError(rt, err)
		defer p.Close()
		work := func(_ context.Context, v int) (int, error) {
			if v < 0 {
				return v, errBad
			}
			return v, nil
		}
		var seen group.Stats
		n := 0
		for _, err := range p.Run(context.Background(), slices.Values(items), work, opts...) {
			if err != nil { // a result is counted once delivered, whatever the consumer does next
				seen.Failed++
			} else {
				seen.Completed++
			}
			if n++; n == take {
				break
			}
		}
		s := p.Stats()
		seen.Submitted = s.Submitted
		assert.Equal(rt, seen, s)
		if take >= len(items) && s.Submitted != int64(len(items)) {
			rt.Fatalf("submitted %d, want %d", s.Submitted, len(items))
		}
	})
}

// TestPropertyHeaderCarrierRoundTrip checks that a span context injected into a message's
// headers, beside random headers of the caller's, is extracted equal, and that the caller's
// headers are left as they were.
func TestPropertyHeaderCarrierRoundTrip(t *testing.T) {
	tel, err := otel.New()
	require.NoError(t, err)
	prop := propagation.TraceContext{}
	ms := otel.NewMessaging(tel, prop, "S", "")
	rapid.Check(t, func(rt *rapid.T) {
		var tid trace.TraceID
		var sid trace.SpanID
		copy(tid[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(rt, "trace id"))
		copy(sid[:], rapid.SliceOfN(rapid.Byte(), 8, 8).Draw(rt, "span id"))
		if !tid.IsValid() || !sid.IsValid() {
			rt.Skip("all-zero id")
		}
		flags := trace.TraceFlags(rapid.SampledFrom([]byte{0, 1}).Draw(rt, "flags"))
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, Remote: true})
		own := rapid.MapOf(rapid.StringMatching(`[A-Z][a-z-]{0,8}`), rapid.StringMatching(`[a-z0-9]{0,8}`)).Draw(rt, "headers")
		msg := nats.NewMsg("s")
		for k, v := range own {
			msg.Header.Set(k, v)
		}
		ms.Inject(trace.ContextWithRemoteSpanContext(context.Background(), sc), msg)
		got := trace.SpanContextFromContext(prop.Extract(context.Background(), otel.HeaderCarrier(msg.Header)))
		if !got.Equal(sc) {
			rt.Fatalf("extracted %v, want %v", got, sc)
		}
		for k, v := range own {
			if msg.Header.Get(k) != v {
				rt.Fatalf("header %q = %q, want %q", k, msg.Header.Get(k), v)
			}
		}
	})
}
