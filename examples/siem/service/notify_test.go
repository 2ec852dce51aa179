package service_test

import (
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

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

// A tab, which mime's encoders leave as it is, is encoded: the header stays printable ASCII.
func TestEncodeSubjectTab(t *testing.T) {
	for _, s := range []string{"\t", "a\tb", "alert\t=?"} {
		enc := service.EncodeSubject(s)
		assert.NotContains(t, enc, "\t", "encoding of %q", s)
		dec, err := new(mime.WordDecoder).DecodeHeader(enc)
		require.NoError(t, err, "decode %q", enc)
		assert.Equal(t, s, dec, "%q encoded as %q", s, enc)
	}
}

// The subject's encoding: any UTF-8 text, encoded-word look-alikes and control characters
// included, is written as printable ASCII in words of at most 75 characters, and a mail reader's
// decoder gives back exactly the text, never a character the text did not hold.
func TestEncodeSubjectProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		// A look-alike of an encoded word, which a decoder would turn into other characters.
		word := rapid.Custom(func(t *rapid.T) string {
			return "=?" + rapid.SampledFrom([]string{"utf-8", "UTF-8", "iso-8859-1"}).Draw(t, "charset") + "?" +
				rapid.SampledFrom([]string{"q", "Q", "b", "B"}).Draw(t, "encoding") + "?" +
				rapid.StringMatching(`[A-Za-z0-9=_+/]{0,12}`).Draw(t, "text") + "?="
		})
		parts := rapid.SliceOf(rapid.OneOf(word, rapid.String(), rapid.StringMatching(`[ -~]{0,20}`), rapid.SampledFrom([]string{
			"=?", "?=", "=E2=80=AE", "\r\n", "Bcc: x@example.com", "é", "\u202e", " ",
		}))).Draw(t, "parts")
		s := strings.ToValidUTF8(strings.Join(parts, ""), "\uFFFD")
		enc := service.EncodeSubject(s)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c < ' ' || c > '~' {
				t.Fatalf("byte %d of %q is %#x: not printable ASCII", i, enc, c)
			}
		}
		if strings.Contains(s, "=?") || enc != s {
			for _, w := range strings.Fields(enc) {
				if len(w) > 75 {
					t.Fatalf("encoded word %q is %d characters long", w, len(w))
				}
			}
		}
		dec, err := new(mime.WordDecoder).DecodeHeader(enc)
		if err != nil {
			t.Fatalf("decode %q: %v", enc, err)
		}
		if dec != s {
			t.Fatalf("%q encoded as %q decodes to %q", s, enc, dec)
		}
		if !utf8.ValidString(dec) {
			t.Fatalf("decoded %q is not UTF-8", dec)
		}
	})
}
