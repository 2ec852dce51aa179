package group

// MaxQuantum is the most items a worker takes from one group at once.
const MaxQuantum = maxQuantum

// HoldWorkersLock takes the lock r's workers take for every batch, and returns its unlock.
func HoldWorkersLock[K comparable, In, Out any](r *MapRouter[K, In, Out]) (unlock func()) {
	r.mu.Lock()
	return r.mu.Unlock
}
