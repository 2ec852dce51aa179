package service_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

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
				`siem_stage_duration_seconds_count{stage="authorize"} 3`,
				`siem_stage_duration_seconds_count{stage="persist"} 3`,
				`siem_stage_duration_seconds_count{stage="distribute"} 2`,
				`siem_groups_opened_total 2`,
				`siem_ws_clients 0`,
				`siem_alerts_failed_total 0`,
			} {
				assert.Contains(t, body, want+"\n")
			}
			if design == service.DesignGroup {
				assert.Contains(t, body, "siem_router_submitted_total 3\n")
				assert.Contains(t, body, "siem_router_completed_total 3\n")
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
