package engine

import (
	"fmt"
	"time"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// Guard calls run under one deferred recover and reports whether it returned. If run panics,
// failed gets a *panics.Error and Guard returns false; if run calls runtime.Goexit, failed gets
// [panics.ErrGoexit] and the goroutine ends as Goexit wants (Guard does not return). See the
// package doc for the invariants.
func Guard(run func(), failed func(err error)) (returned bool) {
	defer func() {
		if returned {
			return
		}
		failed(panics.Caught(recover()))
	}()
	run()
	return true
}

// MaxRise bounds a sample of the service time, as a multiple of the estimate.
const MaxRise = 2

// ServiceTime is a moving estimate of an item's service time, in nanoseconds; the zero value has
// no sample yet. See the package doc for the rule.
type ServiceTime struct {
	ns int64
}

// Learn adds the sample of a run of items that took took. A run of no items is ignored.
func (s *ServiceTime) Learn(took time.Duration, items int) {
	if items <= 0 {
		return
	}
	per := took.Nanoseconds()/int64(items) + 1 // never 0: Fit divides by it
	switch {
	case s.ns == 0:
		s.ns = per
	case per < s.ns:
		s.ns = (s.ns + per) / 2
	default:
		s.ns = (3*s.ns + min(per, MaxRise*s.ns)) / 4
	}
}

// Ns returns the estimate in nanoseconds: 0 before the first sample.
func (s *ServiceTime) Ns() int64 { return s.ns }

// Fit returns how many items fill span by the estimate, at least 1 and at most limit; 1 before
// the first sample (until items are timed, spread them one at a time). Fit panics if limit is
// below 1.
func (s *ServiceTime) Fit(span time.Duration, limit int) int {
	if limit < 1 {
		panic(fmt.Sprintf("engine: Fit needs a limit of at least 1, got %d", limit))
	}
	if s.ns == 0 {
		return 1
	}
	return int(max(1, min(int64(limit), span.Nanoseconds()/s.ns)))
}
