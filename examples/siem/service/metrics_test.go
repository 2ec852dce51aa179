package service_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

func TestMetricsStatsAndHealth(t *testing.T) {
	for _, design := range designs {
		t.Run(design, func(t *testing.T) {
			e := start(t, service.Config{Design: design})
			// Events of one request run concurrently: the duplicate comes in a second request so
			// that which of the two is rejected is defined.
			code, res, text := e.post(t, e.key, ndjson(event("a", 1, "x"), event("b", 9, "y")))
			require.Equal(t, http.StatusOK, code, text)
			require.Len(t, res, 2)
			code, res, text = e.post(t, e.key, ndjson(event("a", 5, "again")))
			require.Equal(t, http.StatusOK, code, text)
			require.Len(t, res, 1)

			code, body := get(t, e.url+"/healthz")
			assert.Equal(t, http.StatusOK, code)
			assert.Equal(t, "ok\n", body)

			code, body = get(t, e.url+"/metrics")
			require.Equal(t, http.StatusOK, code)
			for _, want := range []string{
				`siem_events_total{status="accepted"} 2`,
				`siem_events_total{status="rejected"} 1`,
				`siem_events_total{status="failed"} 0`,
				`stagecoach_stage_duration_seconds_count{machine="siem",state="authorize"} 3`,
				`stagecoach_stage_duration_seconds_count{machine="siem",state="persist"} 3`,
				`stagecoach_stage_duration_seconds_count{machine="siem",state="distribute"} 2`,
				`siem_groups_opened_total 2`,
				`siem_ws_clients 0`,
				`siem_alerts_failed_total 0`,
			} {
				assert.Contains(t, body, want+"\n")
			}
			if design == service.DesignGroup {
				assert.Contains(t, body, `stagecoach_router_items_submitted_total{router="siem"} 3`+"\n")
				assert.Contains(t, body, `stagecoach_router_items_completed_total{router="siem"} 3`+"\n")
				assert.Contains(t, body, `stagecoach_router_groups_open{router="siem"} 0`+"\n")
			}

			st := e.stats(t)
			assert.Equal(t, design, st.Design)
			assert.Equal(t, map[string]int64{"accepted": 2, "rejected": 1, "failed": 0, "unknown": 0}, st.Statuses)
			assert.Equal(t, map[string]int64{"low": 1, "medium": 0, "high": 0, "critical": 1}, st.Levels)
			require.Len(t, st.Stages, 5)
			assert.Equal(t, "persist", st.Stages[2].Name)
			assert.Equal(t, int64(1), st.Stages[2].Rejected)
		})
	}
}

// The dashboard is served from the binary, with no reference to anything off the host.
func TestDashboardIsSelfContained(t *testing.T) {
	e := start(t, service.Config{})
	for _, path := range []string{"/", "/app.js", "/style.css"} {
		code, body := get(t, e.url+path)
		require.Equal(t, http.StatusOK, code, path)
		assert.NotContains(t, body, "http://", path)
		assert.NotContains(t, body, "https://", path)
	}
	_, body := get(t, e.url+"/")
	assert.True(t, strings.Contains(body, `<script src="app.js">`))
}

// scrape parses GET /metrics.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(res.Body)
	require.NoError(t, err)
	return mfs
}

// stageHistograms returns the stage duration histogram of each state, checking that every series
// has exactly the labels machine="siem" and state.
func stageHistograms(t *testing.T, mfs map[string]*dto.MetricFamily) map[string]*dto.Histogram {
	t.Helper()
	out := map[string]*dto.Histogram{}
	mf, ok := mfs["stagecoach_stage_duration_seconds"]
	if !ok {
		return out
	}
	require.Equal(t, dto.MetricType_HISTOGRAM, mf.GetType())
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		require.Len(t, labels, 2, "labels %v", labels)
		require.Equal(t, "siem", labels["machine"])
		out[labels["state"]] = m.GetHistogram()
	}
	return out
}

// TestStageHistograms scrapes /metrics before and after a request of three events, one of them
// rejected at persist, and checks the stage histograms: one series a stage, labelled with the
// machine and the state only, whose count grew by the events the stage ran and whose buckets
// hold every observation (the stages take far less than the largest bound, 10 s).
func TestStageHistograms(t *testing.T) {
	for _, design := range designs {
		t.Run(design, func(t *testing.T) {
			e := start(t, service.Config{Design: design})
			before := stageHistograms(t, scrape(t, e.url))
			code, _, text := e.post(t, e.key, ndjson(event("a", 1, "x"), event("b", 9, "y")))
			require.Equal(t, http.StatusOK, code, text)
			code, _, text = e.post(t, e.key, ndjson(event("a", 5, "again")))
			require.Equal(t, http.StatusOK, code, text)

			after := stageHistograms(t, scrape(t, e.url))
			states := make([]string, 0, len(after))
			for s := range after {
				states = append(states, s)
			}
			assert.ElementsMatch(t, []string{"authorize", "enrich", "persist", "alert", "distribute"}, states)
			ran := map[string]uint64{"authorize": 3, "enrich": 3, "persist": 3, "alert": 2, "distribute": 2}
			for state, want := range ran {
				h := after[state]
				require.NotNil(t, h, state)
				var was uint64
				var wasBuckets []uint64
				if b := before[state]; b != nil {
					was = b.GetSampleCount()
					for _, bk := range b.GetBucket() {
						wasBuckets = append(wasBuckets, bk.GetCumulativeCount())
					}
				}
				assert.Equal(t, want, h.GetSampleCount()-was, "%s: observations added", state)
				bks := h.GetBucket()
				require.NotEmpty(t, bks, state)
				var under10 *dto.Bucket
				for _, bk := range bks {
					if bk.GetUpperBound() == 10 {
						under10 = bk
					}
				}
				require.NotNil(t, under10, "%s: a bucket bounded at 10 s, the largest finite bound", state)
				assert.Equal(t, h.GetSampleCount(), under10.GetCumulativeCount(), "%s: every observation under 10 s", state)
				grew := false
				for i, bk := range bks {
					old := uint64(0)
					if i < len(wasBuckets) {
						old = wasBuckets[i]
					}
					grew = grew || bk.GetCumulativeCount() > old
				}
				assert.True(t, grew, "%s: a bucket count grew", state)
				assert.Positive(t, h.GetSampleSum(), state)
			}
		})
	}
}
