package panics_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/stagecoach-go/stagecoach/internal/panics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func capture(f func()) (err *panics.Error) {
	defer func() {
		if v := recover(); v != nil {
			err = panics.New(v)
		}
	}()
	f()
	return nil
}

func panicker() { panic(io.EOF) }

func TestErrorCarriesValueAndStack(t *testing.T) {
	err := capture(panicker)
	require.NotNil(t, err)
	assert.Equal(t, io.EOF, err.Value)
	assert.Contains(t, string(err.Stack), "panicker", "stack names the panicking func")
	assert.True(t, errors.Is(err, io.EOF), "errors.Is reaches an error panic value")
	assert.True(t, strings.HasPrefix(err.Error(), "panic: EOF"))
}

func TestUnwrapNonError(t *testing.T) {
	err := capture(func() { panic(42) })
	require.NotNil(t, err)
	assert.Nil(t, err.Unwrap())
	assert.Equal(t, 42, err.Value)
}

func TestRepanicKeepsOriginalStack(t *testing.T) {
	err := capture(panicker)
	require.NotNil(t, err)
	defer func() {
		v := recover()
		require.NotNil(t, v)
		assert.Contains(t, v.(string), "panicker")
	}()
	err.Repanic()
}
