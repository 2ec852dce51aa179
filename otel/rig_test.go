package otel_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/otel"
)

type State int

const (
	Parse State = iota
	Check
	Store
	Done
)

func (s State) String() string { return [...]string{"Parse", "Check", "Store", "Done"}[s] }

var errBad = errors.New("bad item")

// builder returns a three-stage machine's builder: Check fails items below 0 and panics on
// items equal to -100.
func builder() *fsm.Builder[State, int] {
	return fsm.NewBuilder[State, int]().
		Step(Parse, func(_ context.Context, v int) (int, error) { return v, nil }, Check).
		Step(Check, func(_ context.Context, v int) (int, error) {
			if v == -100 {
				panic("boom")
			}
			if v < 0 {
				return v, errBad
			}
			return v, nil
		}, Store).
		Step(Store, func(_ context.Context, v int) (int, error) { return v + 1, nil }, Done).
		Terminal(Done)
}

// rig is a Telemetry with an in-memory span exporter and a manual metric reader.
type rig struct {
	tel    *otel.Telemetry
	tp     *sdktrace.TracerProvider
	bare   *sdktrace.TracerProvider // records spans, exports none
	mp     *sdkmetric.MeterProvider
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
}

func newRig(t testing.TB, opts ...otel.Option) *rig {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	bare := sdktrace.NewTracerProvider()
	t.Cleanup(func() {
		_ = bare.Shutdown(context.Background())
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	tel, err := otel.New(append([]otel.Option{otel.WithTracerProvider(tp), otel.WithMeterProvider(mp)}, opts...)...)
	require.NoError(t, err)
	return &rig{tel: tel, tp: tp, bare: bare, mp: mp, spans: spans, reader: reader}
}

// machine builds the test machine with an adapter named name attached.
func (r *rig) machine(t testing.TB, name string, opts ...otel.MachineOption) (*otel.Machine[State, int], *fsm.Machine[State, int]) {
	t.Helper()
	om := otel.NewMachine[State, int](r.tel, name, opts...)
	b := builder()
	require.NoError(t, om.Attach(b))
	m, err := b.Build(Parse)
	require.NoError(t, err)
	return om, m
}

// collect returns the metrics collected now, by instrument name.
func (r *rig) collect(t testing.TB) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	got := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			got[m.Name] = m.Data
		}
	}
	return got
}

// sum returns the int64 sum data point of name whose attributes include all of want.
func (r *rig) point(t testing.TB, data map[string]metricdata.Aggregation, name string, want map[string]string) (int64, bool) {
	t.Helper()
	var dps []metricdata.DataPoint[int64]
	switch d := data[name].(type) {
	case metricdata.Sum[int64]:
		dps = d.DataPoints
	case metricdata.Gauge[int64]:
		dps = d.DataPoints
	default:
		return 0, false
	}
	for _, dp := range dps {
		if matches(dp.Attributes.ToSlice(), want) {
			return dp.Value, true
		}
	}
	return 0, false
}

// histCount returns the count of the stage duration histogram of state.
func histCount(data map[string]metricdata.Aggregation, machine, state string) uint64 {
	h, ok := data["stagecoach.stage.duration"].(metricdata.Histogram[float64])
	if !ok {
		return 0
	}
	for _, dp := range h.DataPoints {
		if matches(dp.Attributes.ToSlice(), map[string]string{"stagecoach.machine": machine, "stagecoach.state": state}) {
			return dp.Count
		}
	}
	return 0
}

func matches(kvs []attribute.KeyValue, want map[string]string) bool {
	n := 0
	for _, kv := range kvs {
		if w, ok := want[string(kv.Key)]; ok {
			if kv.Value.String() != w {
				return false
			}
			n++
		}
	}
	return n == len(want)
}
