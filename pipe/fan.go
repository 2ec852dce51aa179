package pipe

import (
	"fmt"
	"sync"
	"time"
)

// Merge returns one channel of the items of every channel of ins (fan-in), in no particular
// order; it is closed once all of ins are. Merge returns at once; its goroutines belong to p.
func Merge[T any](p *Pipeline, ins ...<-chan T) <-chan T {
	for _, in := range ins {
		mustInput("Merge", in)
	}
	pt := p.part("Merge", "")
	out := make(chan T, DefaultBuffer)
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Add(1)
		pt.spawn(func() {
			defer wg.Done()
			for v := range receive(p, in) {
				if !send(p, out, v) {
					return
				}
			}
		})
	}
	pt.spawn(func() { wg.Wait(); close(out) })
	return out
}

// Tee returns n channels that each receive every item of in, in order (fan-out by copy). An item
// goes to the next channel only once every channel has taken the previous one, so the slowest
// reader sets the pace (each channel has a buffer of [DefaultBuffer]); every one of them must be
// read, or the pipeline stopped. Tee panics if n is below 1.
func Tee[T any](p *Pipeline, in <-chan T, n int) []<-chan T {
	if n < 1 {
		panic(fmt.Sprintf("pipe: Tee(..., n=%d): must be at least 1", n))
	}
	mustInput("Tee", in)
	pt := p.part("Tee", "")
	outs := make([]chan T, n)
	ro := make([]<-chan T, n)
	for i := range outs {
		outs[i] = make(chan T, DefaultBuffer)
		ro[i] = outs[i]
	}
	pt.spawn(func() {
		defer func() {
			for _, out := range outs {
				close(out)
			}
		}()
		for v := range receive(p, in) {
			for _, out := range outs {
				if !send(p, out, v) {
					return
				}
			}
		}
	})
	return ro
}

// Batch returns a channel of batches of the items of in: a batch is sent when it holds size
// items, or when maxWait has passed since its first item came, whichever is first, and the last
// partial batch when in is closed. A maxWait of 0 waits for full batches only. Batch panics if
// size is below 1 or maxWait is negative.
func Batch[T any](p *Pipeline, in <-chan T, size int, maxWait time.Duration) <-chan []T {
	if size < 1 {
		panic(fmt.Sprintf("pipe: Batch(..., size=%d, ...): must be at least 1", size))
	}
	if maxWait < 0 {
		panic(fmt.Sprintf("pipe: Batch(..., maxWait=%v): must not be negative", maxWait))
	}
	mustInput("Batch", in)
	pt := p.part("Batch", "")
	out := make(chan []T, DefaultBuffer)
	pt.spawn(func() {
		defer close(out)
		batcher[T]{p: p, in: in, out: out, size: size, maxWait: maxWait}.run()
	})
	return out
}

type batcher[T any] struct {
	p       *Pipeline
	in      <-chan T
	out     chan<- []T
	size    int
	maxWait time.Duration
}

// run collects items into batches until in is closed or the pipeline is cancelled. The timer
// runs only while a partial batch waits.
func (b batcher[T]) run() {
	var batch []T
	var timer *time.Timer
	var expired <-chan time.Time
	for {
		select {
		case v, ok := <-b.in:
			if !ok {
				if len(batch) > 0 {
					send(b.p, b.out, batch)
				}
				return
			}
			batch = append(batch, v)
			if len(batch) == 1 && b.maxWait > 0 {
				timer, expired = b.arm(timer)
			}
			if len(batch) < b.size {
				continue
			}
		case <-expired:
		case <-b.p.ctx.Done():
			return
		}
		if !send(b.p, b.out, batch) {
			return
		}
		batch, expired = nil, nil
		if timer != nil {
			timer.Stop()
		}
	}
}

func (b batcher[T]) arm(t *time.Timer) (*time.Timer, <-chan time.Time) {
	if t == nil {
		t = time.NewTimer(b.maxWait)
	} else {
		t.Reset(b.maxWait)
	}
	return t, t.C
}
