package group_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// raceEnabled is set by race_test.go in a build with the race detector.
var raceEnabled bool

// skipAllocsUnderRace skips a test that counts the allocations of rounds through a group's window
// in a build with the race detector: the detector drops a quarter of sync.Pool puts on purpose,
// and a group takes its window from its router's pool, so that a round costs about a window
// (five allocations) one time in four. scripts/test runs these tests without the race detector.
func skipAllocsUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("the race detector drops sync.Pool puts at random; counted without it by scripts/test")
	}
}
