package jetstream

import (
	"errors"

	"github.com/stagecoach-go/stagecoach/group"
)

// read is a group's reader: it settles each message as its item's result comes back, moves the
// key's overflow into the room each result frees, and ends when the group does.
func (f *Feed[K, T]) read(ks *key[K, T]) {
	defer f.readers.Done()
	var refused []held[T]
	for _, err := range ks.g.Results() {
		ks.mu.Lock()
		h := ks.pending.pop()
		var refusal error
		refused, refusal = f.refill(ks, refused[:0])
		empty := ks.empty()
		ks.mu.Unlock()
		if refusal != nil {
			refused = f.refuse(ks, refused)
		} else if empty {
			f.maybeRest(ks)
		}
		f.settle(h, err)
		for _, r := range refused {
			f.failToHold(r, refusal)
		}
	}
}

// refill submits the key's overflow while fewer than Window of its items are in the group. If
// the group refuses them for good (its context ended, the router closed), it returns them with
// the group's error; the caller must then forget the key with refuse. Called with ks.mu held.
func (f *Feed[K, T]) refill(ks *key[K, T], refused []held[T]) ([]held[T], error) {
	for ks.overflow.len() > 0 && ks.pending.len() < f.opts.window {
		h := &ks.overflow.buf[ks.overflow.head]
		err := ks.g.TrySubmit(h.v)
		if errors.Is(err, group.ErrWindowFull) {
			return refused, nil
		}
		if err != nil {
			for ks.overflow.len() > 0 {
				refused = append(refused, ks.overflow.pop())
			}
			return refused, err
		}
		var zero T
		h.v = zero
		ks.pending.push(ks.overflow.pop())
	}
	return refused, nil
}

// refuse forgets a key whose group refused its overflow, and adds to refused what was queued in
// the overflow since refill emptied it.
func (f *Feed[K, T]) refuse(ks *key[K, T], refused []held[T]) []held[T] {
	f.mu.Lock()
	defer f.mu.Unlock()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	f.forget(ks)
	for ks.overflow.len() > 0 {
		refused = append(refused, ks.overflow.pop())
	}
	return refused
}

// maybeRest rests a key its reader found empty, if it still is.
func (f *Feed[K, T]) maybeRest(ks *key[K, T]) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ks.mu.Lock()
	empty := ks.empty()
	ks.mu.Unlock()
	if empty { // and stays so while f.mu is held: see key
		f.rest(ks)
	}
}

// rest deals with a key that has just emptied: once the feed is closing its group closes, else
// it joins the idle list, whose least recently used groups close beyond IdleGroups. Called with
// mu held, the key empty.
func (f *Feed[K, T]) rest(ks *key[K, T]) {
	if ks.closed || ks.idle {
		return
	}
	if f.closing {
		f.forget(ks)
		return
	}
	f.idle.push(ks)
	for f.idle.n > f.opts.idleGroups {
		f.forget(f.idle.head)
	}
}

// closeGroups stops the feed opening groups and closes every group that is empty; the others
// close as their readers empty them.
func (f *Feed[K, T]) closeGroups() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closing = true
	for _, ks := range f.keys {
		ks.mu.Lock()
		empty := ks.empty()
		ks.mu.Unlock()
		if empty {
			f.forget(ks)
		}
	}
}
