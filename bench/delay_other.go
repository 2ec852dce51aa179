//go:build !linux

package bench

import "time"

// preciseSleeps does nothing outside Linux.
func preciseSleeps() {}

// nap sleeps with a Go timer outside Linux.
func nap(dt time.Duration) { time.Sleep(dt) }
