package fsm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// Must passes a built machine through and panics with the build error itself, so the panic names
// the state at fault and errors.Is reaches the sentinel.
func TestMust(t *testing.T) {
	step := func(_ context.Context, v int) (int, error) { return v + 1, nil }
	m := fsm.Must(fsm.NewBuilder[string, int]().Step("a", step, "end").Terminal("end").Build("a"))
	v, state, err := m.Run(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, "end", state)
	assert.Equal(t, 2, v)

	_, buildErr := fsm.NewBuilder[string, int]().Step("a", step, "gone").Terminal("end").Build("a")
	require.Error(t, buildErr)
	var got any
	func() {
		defer func() { got = recover() }()
		fsm.Must(fsm.NewBuilder[string, int]().Step("a", step, "gone").Terminal("end").Build("a"))
	}()
	err, ok := got.(error)
	require.True(t, ok, "the panic value is an error, got %#v", got)
	assert.ErrorIs(t, err, fsm.ErrUnknownState)
	assert.Equal(t, buildErr.Error(), err.Error())
	var ge *fsm.GraphError[string]
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "gone", ge.State)

	assert.PanicsWithValue(t, "fsm: Must(nil, nil): no machine and no error", func() {
		fsm.Must[string, int](nil, nil)
	})
	assert.NotPanics(t, func() { fsm.Must(m, nil) })
	assert.Panics(t, func() { fsm.Must(m, errors.New("any error")) }, "an error panics even with a machine")
}
