package group_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/group"
)

var errBoom = errors.New("boom")

// failing is a work func for the error tests: item 1 returns errBoom, item 2 panics, item 3
// calls runtime.Goexit, item 4 waits for its context to end; the others are doubled.
func failing(ctx context.Context, v int) (int, error) {
	switch v {
	case 1:
		return v, errBoom
	case 2:
		panic("two")
	case 3:
		runtime.Goexit()
	case 4:
		<-ctx.Done()
	}
	return 2 * v, nil
}

// resultErr submits v to a new group of key and returns its result's error.
func resultErr(t *testing.T, r *group.Router[string, int], ctx context.Context, key string, v int, opts ...group.GroupOption) error {
	t.Helper()
	g, err := r.Open(ctx, key, opts...)
	require.NoError(t, err)
	require.NoError(t, g.Submit(t.Context(), v))
	g.Close()
	var got error
	for _, err := range g.Results() {
		got = err
	}
	return got
}

// Every error a router or a group returns, or puts on a result, is a *group.Error that carries
// the group's key, what failed, and the cause: errors.As recovers the key, and errors.Is and
// errors.As reach the package's sentinel errors and the causes through it.
func TestErrorsCarryTheGroupsKey(t *testing.T) {
	r := newRouter(t, failing, group.Workers(2))
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	open, err := r.Open(t.Context(), "open")
	require.NoError(t, err)
	full, err := r.Open(t.Context(), "full", group.Window(1))
	require.NoError(t, err)
	require.NoError(t, full.Submit(t.Context(), 4)) // waits until the test ends
	closed, err := r.Open(t.Context(), "closed")
	require.NoError(t, err)
	closed.Close()

	tests := []struct {
		give    string
		err     func() error
		wantKey string
		wantOp  string
		want    error // reached with errors.Is; nil: a *PanicError, reached with errors.As
	}{
		{"open an open key", func() error { _, err := r.Open(t.Context(), "open"); return err }, "open", "open", group.ErrKeyOpen},
		{"open with an ended context", func() error { _, err := r.Open(ended, "late"); return err }, "late", "open", context.Canceled},
		{"submit with an ended context", func() error { return open.Submit(ended, 0) }, "open", "submit", context.Canceled},
		{"submit to a closed group", func() error { return closed.Submit(t.Context(), 0) }, "closed", "submit", group.ErrGroupClosed},
		{"try a full window", func() error { return full.TrySubmit(0) }, "full", "submit", group.ErrWindowFull},
		{"the work func's error", func() error { return resultErr(t, r, t.Context(), "work", 1) }, "work", "", errBoom},
		{"a panic", func() error { return resultErr(t, r, t.Context(), "panic", 2) }, "panic", "", nil},
		{"a Goexit", func() error { return resultErr(t, r, t.Context(), "goexit", 3) }, "goexit", "", group.ErrGoexit},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			err := tt.err()
			var ge *group.Error[string]
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, tt.wantKey, ge.Key, "the group's key")
			assert.Equal(t, tt.wantOp, ge.Op)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			} else {
				var pe *group.PanicError
				assert.ErrorAs(t, err, &pe, "a panic's error reaches the *PanicError")
			}
			assert.Equal(t, ge.Err, errors.Unwrap(err), "Unwrap returns the cause")
		})
	}
}

// The errors of a fail-fast group's end carry its key too, once, and reach both ErrGroupFailed
// and the first failure; the context its work funcs see ends with the same kind of error.
func TestFailFastErrorsCarryTheGroupsKey(t *testing.T) {
	seen := make(chan error, 1)
	started := make(chan struct{}, 1)
	work := func(ctx context.Context, v int) (int, error) {
		if v == 0 {
			return v, errBoom
		}
		started <- struct{}{}
		<-ctx.Done()
		seen <- context.Cause(ctx)
		return v, nil
	}
	r := newRouter(t, work, group.Workers(2))
	g, err := r.Open(t.Context(), "ff", group.FailFast(), group.Ordered())
	require.NoError(t, err)
	require.NoError(t, g.Submit(t.Context(), 1)) // runs, and sees the group fail
	// It must start before item 0 fails: an item not started by then never starts.
	<-started
	require.NoError(t, g.Submit(t.Context(), 0))
	cause := <-seen
	<-g.Done() // the group has ended: every item has its result
	for _, err := range []error{cause, g.Submit(t.Context(), 2)} {
		var ge *group.Error[string]
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, "ff", ge.Key)
		assert.ErrorIs(t, err, group.ErrGroupFailed)
		assert.ErrorIs(t, err, errBoom)
	}
	assert.Equal(t, "group ff: group: failed fast: boom", cause.Error(), "the key once")
	g.Close()
	for range g.Results() {
	}
}

// A nil context passed to an entry point panics at the call, with a message naming it.
func TestNilContextPanics(t *testing.T) {
	r := newRouter(t, double)
	g, err := r.Open(t.Context(), "g")
	require.NoError(t, err)
	defer g.Close()
	var nilCtx context.Context
	tests := []struct {
		give string
		f    func()
		want string
	}{
		{"Open", func() { _, _ = r.Open(nilCtx, "h") }, "group: Open(nil, h): nil context (use context.Background() or a caller's ctx)"},
		{"Submit", func() { _ = g.Submit(nilCtx, 1) }, "group g: Submit(nil, ...): nil context (use context.Background() or a caller's ctx)"},
		{"SubmitAll", func() { _, _ = g.SubmitAll(nilCtx, []int{1}) }, "group g: SubmitAll(nil, ...): nil context (use context.Background() or a caller's ctx)"},
		{"Shutdown", func() { _ = r.Shutdown(nilCtx) }, "group: Shutdown(nil): nil context (use context.Background() or a caller's ctx)"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, tt.f)
		})
	}
}
