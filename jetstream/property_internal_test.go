package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/internal/panics"
)

// TestDecideProperties checks the delivery contract on arbitrary errors and delivery counts:
// success is acknowledged; an aborting run hands everything else back, except a message on its
// last delivery, which it dead-letters as unfinished; a permanent error or a
// panic is dead-lettered on any delivery; a plain error is retried before MaxDeliver and
// dead-lettered from it on; an unlimited MaxDeliver never dead-letters a plain error.
func TestDecideProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kind := rapid.SampledFrom([]string{"nil", "plain", "permanent", "panic", "router closed", "canceled"}).Draw(t, "kind")
		wrapped := rapid.Bool().Draw(t, "wrapped") // as the router wraps it with the group's key
		deliveries := rapid.Uint64Range(1, 100).Draw(t, "deliveries")
		maxDeliver := rapid.IntRange(-1, 100).Draw(t, "maxDeliver")
		aborting := rapid.Bool().Draw(t, "aborting")

		var err error
		switch kind {
		case "plain":
			err = errors.New("downstream down")
		case "permanent":
			err = Permanent(errors.New("bad order"))
		case "panic":
			err = panics.New("boom")
		case "router closed":
			err = group.ErrRouterClosed
		case "canceled":
			err = context.Canceled
		}
		if err != nil && wrapped {
			err = fmt.Errorf("group k: %w", err)
		}
		got, reason := decide(err, deliveries, maxDeliver, aborting)

		var want fate
		var wantReason string
		switch {
		case err == nil:
			want = fateAck
		case (aborting || kind == "router closed") && maxDeliver >= 1 && int(deliveries) >= maxDeliver:
			want, wantReason = fateDeadLetter, ReasonUnfinished // never handed back on its last delivery
		case aborting || kind == "router closed":
			want = fateHandBack
		case kind == "permanent":
			want, wantReason = fateDeadLetter, ReasonPermanent
		case kind == "panic":
			want, wantReason = fateDeadLetter, ReasonPanic
		case maxDeliver >= 1 && int(deliveries) >= maxDeliver:
			want, wantReason = fateDeadLetter, ReasonMaxDeliver
		default:
			want = fateRetry
		}
		assert.Equal(t, want, got, "fate")
		assert.Equal(t, wantReason, reason, "reason")
	})
}

// TestQueueModel runs random pushes and pops on a queue and on a slice, which must agree.
func TestQueueModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q queue[int]
		var model []int
		next := 0
		t.Repeat(map[string]func(*rapid.T){
			"push": func(t *rapid.T) {
				n := rapid.IntRange(1, 20).Draw(t, "n")
				for range n {
					q.push(next)
					model = append(model, next)
					next++
				}
			},
			"pop": func(t *rapid.T) {
				if len(model) == 0 {
					t.Skip("empty")
				}
				assert.Equal(t, model[0], q.pop())
				model = model[1:]
			},
			"": func(t *rapid.T) {
				assert.Equal(t, len(model), q.len())
				all := []int{}
				q.all(func(v *int) { all = append(all, *v) })
				assert.Equal(t, append([]int{}, model...), all)
			},
		})
	})
}

// TestIdleListModel runs random pushes and removals on an idle list and on a slice in least
// recently used order, which must agree.
func TestIdleListModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		keys := make([]*key[int, int], 8)
		for i := range keys {
			keys[i] = &key[int, int]{k: i}
		}
		var l idleList[int, int]
		var model []int
		t.Repeat(map[string]func(*rapid.T){
			"push": func(t *rapid.T) {
				i := rapid.IntRange(0, len(keys)-1).Draw(t, "key")
				if keys[i].idle {
					t.Skip("already idle")
				}
				l.push(keys[i])
				model = append(model, i)
			},
			"remove": func(t *rapid.T) {
				i := rapid.IntRange(0, len(keys)-1).Draw(t, "key")
				if !keys[i].idle {
					t.Skip("not idle")
				}
				l.remove(keys[i])
				for j, m := range model {
					if m == i {
						model = append(model[:j], model[j+1:]...)
						break
					}
				}
			},
			"": func(t *rapid.T) {
				got := []int{}
				for k := l.head; k != nil; k = k.next {
					got = append(got, k.k)
				}
				assert.Equal(t, len(model), l.n)
				assert.Equal(t, append([]int{}, model...), got)
			},
		})
	})
}

// TestGateModel: random acquires and releases never hold more than max slots; an acquire on a
// full gate waits, and is let through once enough slots are released.
func TestGateModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		max := rapid.IntRange(1, 16).Draw(t, "max")
		g := newGate(max)
		abort := make(chan struct{})
		held := 0
		t.Repeat(map[string]func(*rapid.T){
			"acquire": func(t *rapid.T) {
				if held == max {
					t.Skip("full: acquire would wait")
				}
				assert.True(t, g.acquire(abort))
				held++
			},
			"release": func(t *rapid.T) {
				if held == 0 {
					t.Skip("nothing held")
				}
				g.release(1)
				held--
			},
			"wait on full": func(t *rapid.T) {
				if held < max {
					t.Skip("not full")
				}
				got := make(chan bool)
				go func() { got <- g.acquire(abort) }()
				for held > g.low { // the waiter is let through at the low mark at the latest
					g.release(1)
					held--
				}
				assert.True(t, <-got)
				held++
			},
			"": func(t *rapid.T) {
				g.mu.Lock()
				defer g.mu.Unlock()
				assert.Equal(t, held, g.held)
				assert.LessOrEqual(t, g.held, max)
			},
		})
	})
}

func TestGateAbortEndsAWait(t *testing.T) {
	g := newGate(1)
	abort := make(chan struct{})
	assert.True(t, g.acquire(abort))
	got := make(chan bool)
	go func() { got <- g.acquire(abort) }()
	close(abort)
	assert.False(t, <-got)
}

// TestParseNumDeliveredProperties: on acknowledgement subjects of the old form (9 tokens) and
// the new one (11 or more), the fast path reads the delivery count; it leaves to Metadata every
// subject of another shape and every count that is not a plain decimal number of at most 19
// digits.
func TestParseNumDeliveredProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.StringMatching(`[A-Za-z0-9_-]{1,8}`)
		num := rapid.Uint64()
		delivered := num.Draw(t, "delivered")
		count := strconv.FormatUint(delivered, 10)
		if rapid.Bool().Draw(t, "not a number") {
			count = rapid.SampledFrom([]string{"", "x", "1x", "-1", "+1", "99999999999999999999"}).Draw(t, "count")
		}
		tokens := []string{"$JS", "ACK"}
		v2 := rapid.Bool().Draw(t, "v2")
		if v2 {
			tokens = append(tokens, name.Draw(t, "domain"), name.Draw(t, "hash"))
		}
		tokens = append(tokens, name.Draw(t, "stream"), name.Draw(t, "consumer"), count)
		for range 4 {
			tokens = append(tokens, strconv.FormatUint(num.Draw(t, "number"), 10))
		}
		if v2 {
			tokens = append(tokens, rapid.SliceOfN(name, 0, 2).Draw(t, "more")...)
		}
		wantOK := count == strconv.FormatUint(delivered, 10) && len(count) <= 19 // no overflow to check
		if rapid.Bool().Draw(t, "malformed") {
			switch rapid.IntRange(0, 2).Draw(t, "how") {
			case 0: // a token short of the old form, or between the forms
				tokens = tokens[:rapid.SampledFrom([]int{8, 10}).Draw(t, "tokens")]
			case 1:
				tokens[0] = "$JS2"
			case 2:
				tokens[1] = "NAK"
			}
			wantOK = false
		}
		reply := strings.Join(tokens, ".")
		n, ok := parseNumDelivered(reply)
		assert.Equal(t, wantOK, ok, "parseNumDelivered(%q) ok", reply)
		if wantOK {
			assert.Equal(t, delivered, n, "parseNumDelivered(%q)", reply)
		}
	})
}
