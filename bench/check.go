package bench

import (
	"errors"
	"fmt"
)

// Sink checks the results of one stream: every item comes back exactly once, on its own stream,
// with the value that running every stage in order gives. Add is cheap (a few arithmetic
// operations), so a Sink can run inside the timed loop of a benchmark.
//
// A Sink is not safe for concurrent use; give each goroutine its own and [Sink.Merge] them.
type Sink struct {
	stream int
	a, b   uint64 // the composed affine step of all the stages: want = a*in + b
	w      Workload
	n      int
	sum    uint64
	err    error
}

// NewSink returns a Sink for stream s of w.
func (w Workload) NewSink(s int) *Sink {
	a, b := uint64(1), uint64(0)
	for i := range w.Stages {
		a, b = a*mult, b*mult+addend(i)
	}
	return &Sink{stream: s, a: a, b: b, w: w}
}

// fingerprint spreads an ID over 64 bits, so the sum of fingerprints catches a lost item that a
// duplicated one would hide from a plain count.
func fingerprint(id int) uint64 {
	x := uint64(id) + 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Add records one result: the item out of the last stage, or the error the run gave for it.
func (k *Sink) Add(it Item, err error) {
	k.n++
	k.sum += fingerprint(it.ID)
	if k.err != nil {
		return
	}
	switch {
	case err != nil:
		k.err = fmt.Errorf("stream %d: item %d: %w", k.stream, it.ID, err)
	case it.Stream != k.stream:
		k.err = fmt.Errorf("stream %d: got item %d of stream %d", k.stream, it.ID, it.Stream)
	case it.ID < 0 || it.ID >= k.w.Items:
		k.err = fmt.Errorf("stream %d: got item id %d, want 0 to %d", k.stream, it.ID, k.w.Items-1)
	case it.Val != k.a*k.w.Input(k.stream, it.ID).Val+k.b:
		k.err = fmt.Errorf("stream %d: item %d: Val = %d, want %d", k.stream, it.ID, it.Val,
			k.w.Want(k.w.Input(k.stream, it.ID)))
	}
}

// Merge adds the results other recorded to k's. Both must check the same stream.
func (k *Sink) Merge(other *Sink) {
	k.n += other.n
	k.sum += other.sum
	k.err = errors.Join(k.err, other.err)
}

// Err reports the first wrong result, or a missing or duplicated item once the stream should be
// complete; nil when every item came back exactly once with the right value.
func (k *Sink) Err() error {
	if k.err != nil {
		return k.err
	}
	if k.n != k.w.Items {
		return fmt.Errorf("stream %d: got %d results, want %d", k.stream, k.n, k.w.Items)
	}
	var want uint64
	for id := range k.w.Items {
		want += fingerprint(id)
	}
	if k.sum != want {
		return fmt.Errorf("stream %d: %d results, but some item came back twice and another never", k.stream, k.n)
	}
	return nil
}

// Reset clears what k recorded, to check the next run of the same stream.
func (k *Sink) Reset() { k.n, k.sum, k.err = 0, 0, nil }
