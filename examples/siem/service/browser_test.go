package service_test

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

var updateScreenshot = flag.Bool("update-screenshot", false,
	"also write the dashboard screenshot to ../docs/dashboard.png")

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

// The dashboard, in a real browser: it asks for the key; opened, it shows the events posted
// before it opened, before the service was last started (the latest, from the database), and
// their counts; an event posted then shows up in the
// table and its severity's count goes up; the page is screenshotted.
func TestDashboardInBrowser(t *testing.T) {
	ctx := browser(t)
	before := start(t, service.Config{})
	wait := chromedp.WithPollingTimeout(20 * time.Second)

	history := []string{
		`{"ref":"h1","type":"login_failed","severity":8,"message":"5 failed logins for root","source":"ssh-gw"}`,
		`{"ref":"h2","type":"port_scan","severity":5,"message":"1024 ports in 2 s from 10.0.0.7","source":"fw-1"}`,
		`{"ref":"h3","type":"malware_detected","severity":10,"message":"trojan in invoice.pdf.exe","source":"edr"}`,
		`{"ref":"h4","type":"dns_tunnel","severity":2,"message":"long TXT queries to example.net","source":"dns"}`,
	}
	// One request each: the events of one request run concurrently, so their order in the
	// database, which the page shows newest first, is defined only across requests.
	var res []service.Result
	for _, h := range history {
		code, r, text := before.post(t, before.key, ndjson(h))
		require.Equal(t, http.StatusOK, code, text)
		require.Equal(t, service.StatusAccepted, r[0].Status, r[0].Reason)
		res = append(res, r...)
	}
	// The page is opened on the next start of the service: what it shows of the events before
	// comes from the database, not from the instance's memory.
	require.NoError(t, before.stop())
	e := startOn(t, service.Config{DB: before.db})
	e.key = before.key

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(e.url+"/")))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`!document.getElementById("login").hidden`, wait))
	require.NoError(t, err, "without a session the page asks for the key")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("key"), e.key), chromedp.Click(chromedp.CSS("#login-form button"))))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("conn").textContent === "live"`, wait))
	require.NoError(t, err, "the page's websocket connects")
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](
		fmt.Sprintf(`document.querySelectorAll("#events tr").length === %d && document.querySelector("#events tr").dataset.uid === %q`,
			len(history), res[len(history)-1].UID), wait))
	require.NoError(t, err, "the events posted before are shown on open, newest first")
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("count-high").textContent === "1" && document.getElementById("count-critical").textContent === "1"`, wait))
	require.NoError(t, err, "the counts are the stored events'")

	msg := "sudo to root by www-data"
	code, res, text := e.post(t, e.key, ndjson(fmt.Sprintf(`{"ref":"b1","type":"privilege_escalation","severity":7,"message":%q,"source":"web-1"}`, msg)))
	require.Equal(t, http.StatusOK, code, text)
	require.Equal(t, service.StatusAccepted, res[0].Status, res[0].Reason)

	_, err = chromedp.Run(ctx, chromedp.Poll[bool](
		fmt.Sprintf(`[...document.querySelectorAll("#events tr")].some(r => r.dataset.uid === %q && r.textContent.includes(%q))`, res[0].UID, msg), wait))
	require.NoError(t, err, "the event appears in the table")
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("count-high").textContent === "2"`, wait))
	require.NoError(t, err, "the high count goes to 2")
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("stage-persist") !== null`, wait))
	require.NoError(t, err, "the stages are shown")
	account, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("account")))
	require.NoError(t, err)
	assert.Equal(t, "account: demo", account)

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 gives a PNG, less a JPEG
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "dashboard.png"), png, 0o644))
	if *updateScreenshot {
		require.NoError(t, os.WriteFile(filepath.Join("..", "docs", "dashboard.png"), png, 0o644))
	}
}
