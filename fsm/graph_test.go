package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/fsm"
)

func pass(next string) fsm.StageFunc[string, int] {
	return func(_ context.Context, v int) (int, string, error) { return v, next, nil }
}

func TestBuildRejectsBadGraphs(t *testing.T) {
	tests := []struct {
		give  string
		build func() (*fsm.Machine[string, int], error)
		want  error
		state string
	}{
		{"unknown next state", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Stage("a", pass("b"), "b").Stage("b", pass("end"), "end", "nowhere").Terminal("end").Build("a")
		}, fsm.ErrUnknownState, "nowhere"},
		{"step to nowhere", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Step("a", func(_ context.Context, v int) (int, error) { return v, nil }, "gone").Terminal("end").Build("a")
		}, fsm.ErrUnknownState, "gone"},
		{"start without stage", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Stage("a", pass("end"), "end").Terminal("end").Build("zero")
		}, fsm.ErrNoStart, "zero"},
		{"terminal start", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Stage("a", pass("end"), "end").Terminal("end").Build("end")
		}, fsm.ErrNoStart, "end"},
		{"stage twice", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Stage("a", pass("end"), "end").Stage("a", pass("end"), "end").Terminal("end").Build("a")
		}, fsm.ErrDuplicate, "a"},
		{"stage and terminal", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Stage("a", pass("end"), "end").Terminal("end", "a").Build("a")
		}, fsm.ErrDuplicate, "a"},
		{"unreachable stage", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Stage("a", pass("end"), "end").Stage("island", pass("end"), "end").Terminal("end").Build("a")
		}, fsm.ErrUnreachable, "island"},
		{"dead end", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Stage("a", pass("end"), "end", "loop").Stage("loop", pass("loop"), "loop").Terminal("end").Build("a")
		}, fsm.ErrDeadEnd, "loop"},
		{"stage with no next state", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Stage("a", pass("end"), "end", "stuck").Stage("stuck", pass("")).Terminal("end").Build("a")
		}, fsm.ErrDeadEnd, "stuck"},
		{"cycle in acyclic", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Acyclic().Stage("a", pass("b"), "b").Stage("b", pass("a"), "a", "end").Terminal("end").Build("a")
		}, fsm.ErrCycle, "a"},
		{"self loop in acyclic", func() (*fsm.Machine[string, int], error) {
			return fsm.NewBuilder[string, int]().Acyclic().Stage("a", pass("a"), "a", "end").Terminal("end").Build("a")
		}, fsm.ErrCycle, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			m, err := tt.build()
			assert.Nil(t, m)
			require.ErrorIs(t, err, tt.want)
			var ge *fsm.GraphError[string]
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, tt.state, ge.State, "the error names the state at fault")
			assert.Contains(t, err.Error(), "state "+tt.state)
		})
	}
}

func TestBuildAcceptsCyclesUnlessAcyclic(t *testing.T) {
	m, err := fsm.NewBuilder[string, int]().Stage("a", pass("b"), "b").Stage("b", pass("end"), "a", "end").Terminal("end").Build("a")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "end"}, m.States())
	assert.Equal(t, []string{"a", "end"}, m.Next("b"))
	assert.True(t, m.IsTerminal("end"))
	assert.False(t, m.IsTerminal("a"))
	assert.Equal(t, "a", m.Start())
}

func TestBuilderMisusePanics(t *testing.T) {
	b := fsm.NewBuilder[string, int]().Stage("a", pass("end"), "end").Terminal("end")
	_, err := b.Build("a")
	require.NoError(t, err)
	tests := []struct {
		give string
		f    func()
		want string
	}{
		{"stage after build", func() { b.Stage("x", pass("end"), "end") }, "fsm: Stage(x) after Build: a Builder is frozen once built"},
		{"terminal after build", func() { b.Terminal("y") }, "fsm: Terminal([y]) after Build: a Builder is frozen once built"},
		{"build twice", func() { _, _ = b.Build("a") }, "fsm: Build() after Build: a Builder is frozen once built"},
		{"nil stage func", func() { fsm.NewBuilder[string, int]().Stage("v", nil) }, "fsm: Stage(v): nil stage func"},
		{"nil step func", func() { fsm.NewBuilder[string, int]().Step("w", nil, "end") }, "fsm: Step(w): nil stage func"},
		{"step after build", func() { b.Step("z", nil, "end") }, "fsm: Step(z) after Build: a Builder is frozen once built"},
		{"negative step limit", func() { fsm.NewBuilder[string, int]().StepLimit(-2) }, "fsm: StepLimit(-2): must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			assert.PanicsWithValue(t, tt.want, tt.f)
		})
	}
}

// randomGraph is a graph drawn by rapid: states 0..n-1 are stages or terminals, with random next
// sets that may name states that do not exist (n..n+1).
type randomGraph struct {
	n        int
	terminal []bool
	next     [][]int
	start    int
	acyclic  bool
}

func drawGraph(t *rapid.T) randomGraph {
	g := randomGraph{n: rapid.IntRange(1, 7).Draw(t, "states")}
	g.terminal = make([]bool, g.n)
	g.next = make([][]int, g.n)
	for s := range g.n {
		g.terminal[s] = rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("terminal[%d]", s)) == 0
		if !g.terminal[s] {
			g.next[s] = rapid.SliceOfNDistinct(rapid.IntRange(0, g.n+1), 0, 3, rapid.ID).Draw(t, fmt.Sprintf("next[%d]", s))
		}
	}
	g.start = rapid.IntRange(0, g.n).Draw(t, "start")
	g.acyclic = rapid.Bool().Draw(t, "acyclic")
	return g
}

// drawValidGraph draws a graph that Build must accept, by construction: stages 0..k-1 (start 0)
// and terminals k..n-1, where each stage i > 0 has an edge from a lower stage (so the start reaches
// it) and an edge to a higher stage or a terminal (so it reaches a terminal), plus random extra
// edges (forward only when acyclic, so no cycle). The states are then renamed by a random
// permutation, so the start, the terminals and the registration order vary.
func drawValidGraph(t *rapid.T) randomGraph {
	n := rapid.IntRange(2, 8).Draw(t, "states")
	k := rapid.IntRange(1, n-1).Draw(t, "stages")
	acyclic := rapid.Bool().Draw(t, "acyclic")
	next := make([][]int, n)
	for i := 1; i < k; i++ {
		from := rapid.IntRange(0, i-1).Draw(t, fmt.Sprintf("edge into %d", i))
		next[from] = append(next[from], i)
	}
	for i := range k {
		next[i] = append(next[i], rapid.IntRange(i+1, n-1).Draw(t, fmt.Sprintf("way out of %d", i)))
		low := 0
		if acyclic {
			low = i + 1
		}
		next[i] = append(next[i], rapid.SliceOfN(rapid.IntRange(low, n-1), 0, 2).Draw(t, fmt.Sprintf("extra from %d", i))...)
	}
	name := rapid.Permutation(ints(n)).Draw(t, "names")
	g := randomGraph{n: n, terminal: make([]bool, n), next: make([][]int, n), start: name[0], acyclic: acyclic}
	for i := range n {
		g.terminal[name[i]] = i >= k
		for _, to := range next[i] {
			if !slices.Contains(g.next[name[i]], name[to]) {
				g.next[name[i]] = append(g.next[name[i]], name[to])
			}
		}
	}
	return g
}

func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func (g randomGraph) build() (*fsm.Machine[int, int], error) {
	b := fsm.NewBuilder[int, int]()
	for s := range g.n {
		if g.terminal[s] {
			b.Terminal(s)
			continue
		}
		next := g.next[s]
		b.Stage(s, func(_ context.Context, v int) (int, int, error) { return v, next[0], nil }, next...)
	}
	if g.acyclic {
		b.Acyclic()
	}
	return b.Build(g.start)
}

// verdicts computes, independently of the package, the set of errors a graph must get.
func (g randomGraph) verdicts() map[error][]int {
	want := map[error][]int{}
	exists := func(s int) bool { return s < g.n }
	for s := range g.n {
		for _, to := range g.next[s] {
			if !exists(to) {
				want[fsm.ErrUnknownState] = append(want[fsm.ErrUnknownState], to)
			}
		}
	}
	if !exists(g.start) || g.terminal[g.start] {
		want[fsm.ErrNoStart] = []int{g.start}
		return want
	}
	reach := g.closure(func(s int) []int { return g.next[s] }, []int{g.start})
	var terms []int
	for s := range g.n {
		if g.terminal[s] {
			terms = append(terms, s)
		}
	}
	coreach := g.closure(g.predecessors, terms)
	for s := range g.n {
		switch {
		case g.terminal[s]:
		case !reach[s]:
			want[fsm.ErrUnreachable] = append(want[fsm.ErrUnreachable], s)
		case !coreach[s]:
			want[fsm.ErrDeadEnd] = append(want[fsm.ErrDeadEnd], s)
		}
	}
	if g.acyclic && g.cyclic(reach) {
		want[fsm.ErrCycle] = nil // on a cycle: which states are named depends on the search order
	}
	return want
}

// closure is breadth-first reachability from roots along edges.
func (g randomGraph) closure(edges func(int) []int, roots []int) []bool {
	seen := make([]bool, g.n)
	var queue []int
	for _, r := range roots {
		if r < g.n && !seen[r] {
			seen[r] = true
			queue = append(queue, r)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, to := range edges(s) {
			if to < g.n && !seen[to] {
				seen[to] = true
				queue = append(queue, to)
			}
		}
	}
	return seen
}

func (g randomGraph) predecessors(s int) []int {
	var pre []int
	for from := range g.n {
		if slices.Contains(g.next[from], s) {
			pre = append(pre, from)
		}
	}
	return pre
}

// cyclic reports whether a state reachable from the start can reach itself again.
func (g randomGraph) cyclic(reach []bool) bool {
	for s := range g.n {
		if !reach[s] {
			continue
		}
		again := g.closure(func(x int) []int { return g.next[x] }, g.next[s])
		if slices.ContainsFunc(g.next[s], func(to int) bool { return to == s }) || (s < len(again) && again[s]) {
			return true
		}
	}
	return false
}

// Build's verdict on a graph is the set of problems an independent reachability analysis finds.
// Half the graphs are drawn at random (almost all invalid), half valid by construction, so both
// verdicts are checked often; the counts are logged.
func TestBuildVerdictMatchesReachability(t *testing.T) {
	var valid, invalid int
	rapid.Check(t, func(t *rapid.T) {
		var g randomGraph
		if rapid.Bool().Draw(t, "valid by construction") {
			g = drawValidGraph(t)
			require.Empty(t, g.verdicts(), "the generator makes valid graphs")
		} else {
			g = drawGraph(t)
		}
		m, err := g.build()
		want := g.verdicts()
		if len(want) == 0 {
			valid++
			require.NoError(t, err)
			require.NotNil(t, m)
			return
		}
		invalid++
		require.Error(t, err)
		for sentinel, states := range want {
			require.ErrorIs(t, err, sentinel)
			for _, s := range states {
				assert.Contains(t, err.Error(), fmt.Sprintf("state %d: %v", s, sentinel))
			}
		}
		for _, sentinel := range []error{fsm.ErrUnknownState, fsm.ErrNoStart, fsm.ErrUnreachable, fsm.ErrDeadEnd, fsm.ErrCycle} {
			if _, ok := want[sentinel]; !ok {
				assert.False(t, errors.Is(err, sentinel), "unexpected %v in %v", sentinel, err)
			}
		}
	})
	t.Logf("graphs checked: %d valid (Build accepted), %d invalid (Build rejected with the expected errors)", valid, invalid)
	assert.Positive(t, valid, "some graphs were valid")
	assert.Positive(t, invalid, "some graphs were invalid")
}
