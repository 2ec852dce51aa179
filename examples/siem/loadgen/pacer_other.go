//go:build !linux

package loadgen

import "time"

// preciseSleeps does nothing outside Linux.
func preciseSleeps() {}

// nap sleeps on a Go timer outside Linux.
func nap(dt time.Duration) { time.Sleep(dt) }
