package pool_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/pool"
)

func TestSmoke(t *testing.T) {
	double := func(_ context.Context, v int) (int, error) { return v * 2, nil }
	for _, opts := range [][]pool.Option{nil, {pool.Ordered()}, {pool.Workers(1)}, {pool.Ordered(), pool.Window(3), pool.Workers(3)}} {
		var got []int
		for v, err := range pool.Run(t.Context(), slices.Values(makeRange(10000)), double, opts...) {
			require.NoError(t, err)
			got = append(got, v)
		}
		if len(opts) > 0 && opts[0] != nil {
		}
		s := slices.Clone(got)
		slices.Sort(s)
		want := makeRange(10000)
		for i := range want {
			want[i] *= 2
		}
		assert.Equal(t, want, s)
	}
	boom := errors.New("boom")
	n := 0
	for _, err := range pool.Run(t.Context(), slices.Values(makeRange(100)), func(_ context.Context, v int) (int, error) {
		if v == 50 {
			return 0, boom
		}
		return v, nil
	}, pool.FailFast(), pool.Workers(1)) {
		n++
		if err != nil {
			assert.ErrorIs(t, err, boom)
		}
	}
	assert.Equal(t, 51, n)
}

func makeRange(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
