package group

import "time"

// MaxQuantum is the most items a worker takes from one group at once.
const MaxQuantum = maxQuantum

// HoldWorkersLock takes the lock r's workers take for every batch, and returns its unlock.
func HoldWorkersLock[K comparable, In, Out any](r *MapRouter[K, In, Out]) (unlock func()) {
	r.mu.Lock()
	return r.mu.Unlock
}

// SetRescueAfter sets how long a reader waits for a running batch before it takes the batch's
// finished part, and returns a func that restores it. Not for parallel tests.
func SetRescueAfter(d time.Duration) (restore func()) {
	old := rescueAfter
	rescueAfter = d
	return func() { rescueAfter = old }
}
