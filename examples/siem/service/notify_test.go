package service_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

// With SMTP configured, an alert is recorded with its event and mailed; an event under the
// threshold is neither.
func TestSMTPNotifier(t *testing.T) {
	f := newFakeSMTP(t, smtpRecord)
	e := start(t, service.Config{AlertThreshold: 7, SMTP: mailTo(f)})
	code, res, text := e.post(t, e.key, ndjson(event("quiet", 6, "below"), event("loud", 7, "root login from a new country")))
	require.Equal(t, http.StatusOK, code, text)
	require.Len(t, res, 2)
	assert.Equal(t, service.StatusAccepted, res[0].Status, res[0].Reason)
	assert.Equal(t, service.StatusAccepted, res[1].Status, res[1].Reason)

	mail := nextMail(t, f, 20*time.Second)
	assert.Contains(t, mail, "Subject: [SIEM high] test from demo")
	assert.Contains(t, mail, "To: <soc@localhost>")
	assert.Contains(t, mail, "Event "+res[1].UID+", severity 7")
	assert.Contains(t, mail, "root login from a new country")
	assert.Equal(t, []string{res[1].UID}, e.strings(t, `SELECT event_uid FROM alerts`), "one alert, for the event at the threshold")
	assert.Empty(t, f.mails, "one mail")
}
