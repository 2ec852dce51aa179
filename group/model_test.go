package group_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/group"
)

// job is the item of the model test: which group submitted it, its number, what the work func
// must do with it, and its result.
type job struct {
	key, id int
	kind    string // "ok", "err" or "panic"
	out     int
}

var errJob = errors.New("job failed")

// harness runs a router and, for every group, a reader goroutine that reads one result for each
// credit the test gives it.
type harness struct {
	r       *group.Router[int, job]
	serial  sync.Map // key -> *atomic.Int32: items of a serial group running now
	overlap atomic.Bool
	groups  map[int]*modelGroup
	nextKey int
	nextID  int
}

type modelGroup struct {
	g        *group.Group[int, job]
	ordered  bool
	serial   bool
	cancel   context.CancelFunc
	accepted []int
	credits  chan struct{}
	drain    chan struct{}
	mu       sync.Mutex
	got      []job
	errs     []error
	ended    chan struct{} // closed when the group's Results sequence ended
}

func (h *harness) work(_ context.Context, j job) (job, error) {
	if c, ok := h.serial.Load(j.key); ok {
		if c.(*atomic.Int32).Add(1) > 1 {
			h.overlap.Store(true)
		}
		defer c.(*atomic.Int32).Add(-1)
	}
	runtime.Gosched()
	switch j.kind {
	case "err":
		return j, fmt.Errorf("job %d: %w", j.id, errJob)
	case "panic":
		panic(fmt.Sprintf("job %d panicked", j.id))
	}
	j.out = 2 * j.id
	return j, nil
}

func (m *modelGroup) read() {
	defer close(m.ended)
	for j, err := range m.g.Results() {
		m.mu.Lock()
		m.got, m.errs = append(m.got, j), append(m.errs, err)
		m.mu.Unlock()
		select {
		case <-m.credits:
		case <-m.drain:
		}
	}
}

func (h *harness) open(t *rapid.T) {
	key := h.nextKey
	h.nextKey++
	var opts []group.GroupOption
	m := &modelGroup{credits: make(chan struct{}, 1000), drain: make(chan struct{}), ended: make(chan struct{})}
	switch rapid.SampledFrom([]string{"plain", "ordered", "serial"}).Draw(t, "mode") {
	case "ordered":
		m.ordered = true
		opts = append(opts, group.Ordered())
	case "serial":
		m.ordered, m.serial = true, true
		opts = append(opts, group.Serial())
		h.serial.Store(key, new(atomic.Int32))
	}
	opts = append(opts, group.Window(rapid.IntRange(1, 8).Draw(t, "window")))
	ctx, cancel := context.WithCancel(context.Background())
	g, err := h.r.Open(ctx, key, opts...)
	require.NoError(t, err)
	m.g, m.cancel = g, cancel
	h.groups[key] = m
	go m.read()
}

func (h *harness) pick(t *rapid.T) *modelGroup {
	if len(h.groups) == 0 {
		t.Skip("no group yet")
	}
	keys := make([]int, 0, len(h.groups))
	for k := range h.groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return h.groups[rapid.SampledFrom(keys).Draw(t, "group")]
}

func (h *harness) submit(t *rapid.T) {
	m := h.pick(t)
	j := job{key: m.g.Key(), id: h.nextID, kind: rapid.SampledFrom([]string{"ok", "ok", "ok", "err", "panic"}).Draw(t, "kind")}
	h.nextID++
	if err := m.g.TrySubmit(j); err == nil {
		m.accepted = append(m.accepted, j.id)
	} else {
		assert.True(t, errors.Is(err, group.ErrWindowFull) || errors.Is(err, group.ErrGroupClosed), "refused for a reason: %v", err)
	}
}

func (h *harness) read(t *rapid.T) {
	m := h.pick(t)
	for range rapid.IntRange(1, 4).Draw(t, "credits") {
		m.credits <- struct{}{}
	}
}

// invariants: what every group has read so far is its own, once each, correct, and in
// submission order where asked; no serial group ran two items at once.
func (h *harness) invariants(t *rapid.T) {
	assert.False(t, h.overlap.Load(), "a serial group had two items in flight")
	for key, m := range h.groups {
		m.mu.Lock()
		seen := map[int]bool{}
		var order []int
		for i, j := range m.got {
			assert.Equal(t, key, j.key, "result of group %d read by group %d", j.key, key)
			assert.False(t, seen[j.id], "item %d delivered twice", j.id)
			assert.Contains(t, m.accepted, j.id, "item %d was accepted by this group", j.id)
			seen[j.id] = true
			order = append(order, j.id)
			h.checkResult(t, j, m.errs[i])
		}
		if m.ordered {
			assert.True(t, slices.IsSorted(order), "ordered group %d read %v", key, order)
		}
		m.mu.Unlock()
	}
}

func (h *harness) checkResult(t *rapid.T, j job, err error) {
	var pe *group.PanicError
	switch {
	case errors.Is(err, context.Canceled):
	case j.kind == "ok":
		assert.NoError(t, err)
		assert.Equal(t, 2*j.id, j.out)
	case j.kind == "err":
		assert.ErrorIs(t, err, errJob)
	case j.kind == "panic":
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, fmt.Sprintf("job %d panicked", j.id), pe.Value)
	}
}

// finish closes everything and checks that every accepted item got exactly one result, that
// every group's results ended, and that nothing is left running.
func (h *harness) finish(t *rapid.T) {
	for _, m := range h.groups {
		m.g.Close()
		close(m.drain)
	}
	for key, m := range h.groups {
		<-m.ended
		ids := make([]int, len(m.got))
		for i, j := range m.got {
			ids[i] = j.id
		}
		slices.Sort(ids)
		assert.Equal(t, append([]int{}, m.accepted...), append([]int{}, ids...), "group %d: one result per accepted item", key)
		m.cancel()
	}
	h.invariants(t)
	h.r.Close()
	h.r.Wait()
	assert.NoError(t, goleak.Find())
}

func TestRouterModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := &harness{groups: map[int]*modelGroup{}}
		h.r = group.New[int](h.work, group.Workers(rapid.IntRange(1, 4).Draw(t, "workers")))
		t.Repeat(map[string]func(*rapid.T){
			"open":   h.open,
			"submit": h.submit,
			"read":   h.read,
			"close":  func(t *rapid.T) { h.pick(t).g.Close() },
			"cancel": func(t *rapid.T) { h.pick(t).cancel() },
			"":       h.invariants,
		})
		h.finish(t)
	})
}
