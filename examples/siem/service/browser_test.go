package service_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

var updateScreenshot = flag.Bool("update-screenshot", false,
	"also write the dashboard screenshot to ../docs/dashboard.png (after a few seconds of traffic)")

// browser starts headless Chromium (Debian's chromium package, which the project's test script
// installs when it is missing) and returns a tab's context. Without chromium the test is
// skipped, unless CI is set: there it must run.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is not installed (the test script installs it): %v", err)
		}
		t.Skip("chromium is not installed; the test script installs it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.NoFirstRun,
		chromedp.WindowSize(1280, 960),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })       // ends the browser and its goroutines
	require.NoError(t, chromedp.Do(ctx), "start chromium") // no timeout here: it would kill the browser
	return ctx
}

// The dashboard, in a real browser: an event posted shows up in the table, its severity's
// count goes up, and the page is screenshotted.
func TestDashboardInBrowser(t *testing.T) {
	ctx := browser(t)
	e := start(t, service.Config{})
	wait := chromedp.WithPollingTimeout(20 * time.Second)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(e.url+"/")))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("conn").textContent === "live"`, wait))
	require.NoError(t, err, "the page's websocket connects")
	before, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("count-high")))
	require.NoError(t, err)
	assert.Equal(t, "0", before)

	msg := fmt.Sprintf("browser test %d", time.Now().UnixNano())
	code, res, text := e.post(t, e.key, ndjson(event("b1", 7, msg)))
	require.Equal(t, http.StatusOK, code, text)
	require.Equal(t, service.StatusAccepted, res[0].Status, res[0].Reason)

	_, err = chromedp.Run(ctx, chromedp.Poll[bool](
		fmt.Sprintf(`[...document.querySelectorAll("#events tr")].some(r => r.dataset.uid === %q && r.textContent.includes(%q))`, res[0].UID, msg), wait))
	require.NoError(t, err, "the event appears in the table")
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("count-high").textContent === "1"`, wait))
	require.NoError(t, err, "the high count goes to 1")
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("stage-persist") !== null`, wait))
	require.NoError(t, err, "the stages are shown")

	if *updateScreenshot {
		traffic(t, e, 5*time.Second)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 gives a PNG, less a JPEG
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "dashboard.png"), png, 0o644))
	if *updateScreenshot {
		require.NoError(t, os.WriteFile(filepath.Join("..", "docs", "dashboard.png"), png, 0o644))
	}
}

// traffic posts a varied stream of events for d, so that a screenshot shows a live chart. Only
// for -update-screenshot.
func traffic(t *testing.T, e *env, d time.Duration) {
	types := []string{"login_failed", "port_scan", "malware_detected", "privilege_escalation", "dns_tunnel"}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	end := time.After(d)
	for i := 0; ; i++ {
		select {
		case <-end:
			return
		case <-tick.C:
		}
		var evs []string
		for j := range 1 + i%7 {
			sev := (i*7 + j*3) % 11
			evs = append(evs, fmt.Sprintf(`{"type":%q,"severity":%d,"message":"%s on host-%02d","source":"sensor-%d"}`,
				types[(i+j)%len(types)], sev, strings.ReplaceAll(types[(i+j)%len(types)], "_", " "), (i*j)%40, j%3))
		}
		code, _, text := e.post(t, e.key, ndjson(evs...))
		require.Equal(t, http.StatusOK, code, text)
	}
}
