package fsm_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stagecoach-go/stagecoach/fsm"
)

var update = flag.Bool("update", false, "rewrite the golden files of the diagrams")

// awkward has states whose names are not identifiers, and two states that print the same.
type awkward struct{ name string }

func (a awkward) String() string { return a.name }

func awkwardMachine(t *testing.T) *fsm.Machine[awkward, int] {
	start, dup1, dup2, end := awkward{"in queue"}, awkward{"s1"}, awkward{"twin"}, awkward{"done!"}
	step := func(next awkward) fsm.StageFunc[awkward, int] {
		return func(_ context.Context, v int) (int, awkward, error) { return v, next, nil }
	}
	m, err := fsm.NewBuilder[awkward, int]().
		Stage(start, step(dup1), dup1, dup2).
		Stage(dup1, step(end), end).
		Stage(dup2, step(end), end, start).
		Terminal(end).
		Build(start)
	require.NoError(t, err)
	return m
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}

func TestDiagramsGolden(t *testing.T) {
	golden(t, "order.mmd", orderMachine().Mermaid())
	golden(t, "order.dot", orderMachine().DOT())
	golden(t, "awkward.mmd", awkwardMachine(t).Mermaid())
	golden(t, "awkward.dot", awkwardMachine(t).DOT())
}

func TestDiagramsDeterministic(t *testing.T) {
	first := awkwardMachine(t)
	for range 20 {
		m := awkwardMachine(t)
		assert.Equal(t, first.Mermaid(), m.Mermaid())
		assert.Equal(t, first.DOT(), m.DOT())
	}
}
