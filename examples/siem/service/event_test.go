package service_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

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
			Message:  rapid.StringN(1, 40, -1).Draw(t, "message"),
		}
	})
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
		got, err := service.ParseEvents(strings.NewReader(encode(t, ins, array)), len(ins))
		require.NoError(t, err)
		assert.Equal(t, ins, got)

		_, err = service.ParseEvents(strings.NewReader(encode(t, ins, array)), len(ins)-1)
		assert.ErrorIs(t, err, service.ErrTooMany)

		bad := rapid.IntRange(0, len(ins)-1).Draw(t, "bad")
		sev := rapid.SampledFrom([]int{-1, 11, 100}).Draw(t, "bad severity")
		broken := append([]service.Input(nil), ins...)
		broken[bad].Severity = &sev
		_, err = service.ParseEvents(strings.NewReader(encode(t, broken, array)), len(ins))
		require.Error(t, err)
		assert.Equal(t, fmt.Sprintf(`event %d: field "severity" is %d, want 0 to 10`, bad, sev), err.Error())
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
