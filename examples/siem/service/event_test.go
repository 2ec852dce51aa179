package service_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/examples/siem/service"
)

func genInput() *rapid.Generator[service.Input] {
	return rapid.Custom(func(t *rapid.T) service.Input {
		sev := rapid.IntRange(service.MinSeverity, service.MaxSeverity).Draw(t, "severity")
		return service.Input{
			Ref:      rapid.StringMatching(`[a-z0-9-]{0,12}`).Draw(t, "ref"),
			Source:   rapid.StringMatching(`[a-z]{0,8}`).Draw(t, "source"),
			Type:     rapid.StringMatching(`[a-z_]{1,12}`).Draw(t, "type"),
			Severity: &sev,
			Message:  rapid.StringOfN(printable(), 1, 40, -1).Draw(t, "message"),
		}
	})
}

// printable draws any rune a text field may hold.
func printable() *rapid.Generator[rune] {
	return rapid.Rune().Filter(func(r rune) bool { return !forbiddenRune(r) })
}

// forbiddenRune is the test's own statement of the characters no text field may hold.
func forbiddenRune(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x061c || r == 0x200e ||
		r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

func encode(t *rapid.T, ins []service.Input, array bool) string {
	var parts []string
	for _, in := range ins {
		b, err := json.Marshal(in)
		require.NoError(t, err)
		parts = append(parts, string(b))
	}
	if array {
		return "[" + strings.Join(parts, ",\n") + "]"
	}
	return strings.Join(parts, "\n")
}

// Valid events come back as they were sent, in either format; one bad event anywhere refuses
// the whole body, naming that event.
func TestParseEventsProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ins := rapid.SliceOfN(genInput(), 1, 20).Draw(t, "events")
		array := rapid.Bool().Draw(t, "array")
		got, err := service.ParseEvents(strings.NewReader(encode(t, ins, array)), len(ins), time.Now())
		require.NoError(t, err)
		assert.Equal(t, ins, got)

		_, err = service.ParseEvents(strings.NewReader(encode(t, ins, array)), len(ins)-1, time.Now())
		assert.ErrorIs(t, err, service.ErrTooMany)

		bad := rapid.IntRange(0, len(ins)-1).Draw(t, "bad")
		sev := rapid.SampledFrom([]int{-1, 11, 100}).Draw(t, "bad severity")
		broken := append([]service.Input(nil), ins...)
		broken[bad].Severity = &sev
		_, err = service.ParseEvents(strings.NewReader(encode(t, broken, array)), len(ins), time.Now())
		require.Error(t, err)
		assert.Equal(t, fmt.Sprintf(`event %d: field "severity" is %d, want 0 to 10`, bad, sev), err.Error())
	})
}

// A forbidden character anywhere in any text field of any event refuses the body, naming the
// event, the field, the character and its position.
func TestParseEventsRefusesForbiddenCharacters(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ins := rapid.SliceOfN(genInput(), 1, 10).Draw(t, "events")
		bad := rapid.IntRange(0, len(ins)-1).Draw(t, "bad")
		field := rapid.SampledFrom([]string{"ref", "source", "type", "message"}).Draw(t, "field")
		r := rapid.SampledFrom([]rune{0, '\t', '\n', '\r', 0x1b, 0x7f, 0x85, 0x9b, 0x061c, 0x200e,
			0x200f, 0x202a, 0x202e, 0x2066, 0x2069}).Draw(t, "rune")
		p := map[string]*string{"ref": &ins[bad].Ref, "source": &ins[bad].Source, "type": &ins[bad].Type, "message": &ins[bad].Message}[field]
		at := rapid.IntRange(0, len(*p)).Draw(t, "at")
		for !utf8.RuneStart((*p + " ")[at]) {
			at--
		}
		*p = (*p)[:at] + string(r) + (*p)[at:]
		_, err := service.ParseEvents(strings.NewReader(encode(t, ins, rapid.Bool().Draw(t, "array"))), len(ins), time.Now())
		require.Error(t, err)
		want := fmt.Sprintf("event %d: field %q has the character %U at byte %d", bad, field, r, at)
		assert.True(t, strings.HasPrefix(err.Error(), want), "error %q, want it to start with %q", err, want)
	})
}

// Level is monotonic in the severity and covers every level.
func TestLevelProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := rapid.IntRange(service.MinSeverity, service.MaxSeverity).Draw(t, "a")
		b := rapid.IntRange(a, service.MaxSeverity).Draw(t, "b")
		rank := func(l string) int {
			for i, x := range service.Levels {
				if x == l {
					return i
				}
			}
			t.Fatalf("unknown level %q", l)
			return -1
		}
		assert.LessOrEqual(t, rank(service.Level(a)), rank(service.Level(b)))
	})
	assert.Equal(t, "low", service.Level(service.MinSeverity))
	assert.Equal(t, "critical", service.Level(service.MaxSeverity))
}
