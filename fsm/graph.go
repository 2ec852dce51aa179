package fsm

import (
	"context"
	"errors"
	"fmt"
)

// Graph errors. [Builder.Build] returns a *[GraphError] wrapping one of these for each problem.
var (
	// ErrUnknownState: a stage declared a next state that has neither a stage nor is terminal.
	ErrUnknownState = errors.New("next state has no stage and is not terminal")
	// ErrNoStart: the start state has no stage.
	ErrNoStart = errors.New("start state has no stage")
	// ErrDuplicate: a state was registered twice (as a stage twice, as a terminal twice, or as both).
	ErrDuplicate = errors.New("state registered twice")
	// ErrUnreachable: no path leads from the start to this stage.
	ErrUnreachable = errors.New("stage unreachable from the start")
	// ErrDeadEnd: no terminal state can be reached from this stage.
	ErrDeadEnd = errors.New("no terminal state reachable from this stage")
	// ErrCycle: the machine was built Acyclic and this stage is on a cycle.
	ErrCycle = errors.New("stage on a cycle in an acyclic machine")
)

// GraphError is a problem of the graph found by [Builder.Build], at State.
type GraphError[S comparable] struct {
	State S
	Err   error // one of the graph error sentinels
	// Detail says more where it helps, such as the state whose transition names an unknown state.
	Detail string
}

func (e *GraphError[S]) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("fsm: state %v: %v (%s)", e.State, e.Err, e.Detail)
	}
	return fmt.Sprintf("fsm: state %v: %v", e.State, e.Err)
}

func (e *GraphError[S]) Unwrap() error { return e.Err }

// graph is the compiled form of a Builder's registrations: one node a distinct state, indexed in
// the order states were first mentioned, with the edges resolved to node indexes.
type graph[S comparable, T any] struct {
	nodes []node[S, T]
	index map[S]int
	errs  []error // problems found while compiling: duplicates, unknown states
}

// node is one state of a built machine. next is short (a stage's declared transitions), so
// dispatch is a linear scan of it: it both validates the transition and finds the next node.
type node[S comparable, T any] struct {
	state    S
	fn       StageFunc[S, T]                     // a Stage
	step     func(context.Context, T) (T, error) // a Step: goes on to next[0]
	next     []edge[S, T]
	first    *edge[S, T] // &next[0], nil if next is empty; a run follows it without a bounds check
	terminal bool
}

// edge is a declared transition: to the node of index to (node points at it), whose state is
// state; terminal says whether that state is terminal, so a run ends without loading the node.
type edge[S comparable, T any] struct {
	state    S
	to       int
	node     *node[S, T]
	terminal bool
}

func compile[S comparable, T any](specs []spec[S, T]) *graph[S, T] {
	g := &graph[S, T]{index: map[S]int{}}
	var stages []spec[S, T]
	for _, sp := range specs {
		if g.register(sp) && !sp.terminal {
			stages = append(stages, sp)
		}
	}
	for _, sp := range stages { // g.nodes is complete: the edges may point into it
		g.link(sp)
	}
	for i := range g.nodes {
		if n := &g.nodes[i]; len(n.next) > 0 {
			n.first = &n.next[0]
		}
	}
	return g
}

// register adds sp's state as a node and reports true, or records a duplicate and reports false.
func (g *graph[S, T]) register(sp spec[S, T]) bool {
	if i, ok := g.index[sp.state]; ok {
		was := "a stage"
		if g.nodes[i].terminal {
			was = "terminal"
		}
		g.errs = append(g.errs, &GraphError[S]{State: sp.state, Err: ErrDuplicate, Detail: "already registered as " + was})
		return false
	}
	g.index[sp.state] = len(g.nodes)
	g.nodes = append(g.nodes, node[S, T]{state: sp.state, fn: sp.fn, step: sp.step, terminal: sp.terminal})
	return true
}

// link resolves a stage's declared next states to node indexes.
func (g *graph[S, T]) link(sp spec[S, T]) {
	n := &g.nodes[g.index[sp.state]]
	for _, s := range sp.next {
		to, ok := g.index[s]
		if !ok {
			g.errs = append(g.errs, &GraphError[S]{State: s, Err: ErrUnknownState, Detail: fmt.Sprintf("declared by %v", sp.state)})
			continue
		}
		n.next = append(n.next, edge[S, T]{state: s, to: to, node: &g.nodes[to], terminal: g.nodes[to].terminal})
	}
}

// validate reports every problem of the graph, joined, in a deterministic order.
func (g *graph[S, T]) validate(start S, acyclic bool) error {
	errs := g.errs
	s, ok := g.index[start]
	if !ok || g.nodes[s].terminal {
		errs = append(errs, &GraphError[S]{State: start, Err: ErrNoStart})
		return errors.Join(errs...)
	}
	errs = append(errs, g.reachability(s)...)
	if acyclic {
		errs = append(errs, g.cycles(s)...)
	}
	return errors.Join(errs...)
}

// reachability reports the stages no path from start reaches, and the stages from which no
// terminal state is reachable.
func (g *graph[S, T]) reachability(start int) []error {
	from := g.forward(start)
	to := g.backward()
	var errs []error
	for i, n := range g.nodes {
		switch {
		case n.terminal:
		case !from[i]:
			errs = append(errs, &GraphError[S]{State: n.state, Err: ErrUnreachable})
		case !to[i]:
			errs = append(errs, &GraphError[S]{State: n.state, Err: ErrDeadEnd})
		}
	}
	return errs
}

// forward marks the nodes reachable from start.
func (g *graph[S, T]) forward(start int) []bool {
	seen := make([]bool, len(g.nodes))
	stack := []int{start}
	seen[start] = true
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range g.nodes[n].next {
			if !seen[e.to] {
				seen[e.to] = true
				stack = append(stack, e.to)
			}
		}
	}
	return seen
}

// backward marks the nodes from which a terminal node is reachable, by relaxing until nothing
// changes (graphs are small: a handful of states).
func (g *graph[S, T]) backward() []bool {
	ok := make([]bool, len(g.nodes))
	for i, n := range g.nodes {
		ok[i] = n.terminal
	}
	for changed := true; changed; {
		changed = false
		for i, n := range g.nodes {
			if ok[i] {
				continue
			}
			for _, e := range n.next {
				if ok[e.to] {
					ok[i], changed = true, true
					break
				}
			}
		}
	}
	return ok
}

// cycles reports, once each, the stages a depth-first search from start finds a back edge to.
func (g *graph[S, T]) cycles(start int) []error {
	const (
		unseen = iota
		open
		closed
	)
	mark := make([]int, len(g.nodes))
	onCycle := make([]bool, len(g.nodes))
	var visit func(n int)
	visit = func(n int) {
		mark[n] = open
		for _, e := range g.nodes[n].next {
			switch mark[e.to] {
			case unseen:
				visit(e.to)
			case open:
				onCycle[e.to] = true
			}
		}
		mark[n] = closed
	}
	visit(start)
	var errs []error
	for i, n := range g.nodes {
		if onCycle[i] {
			errs = append(errs, &GraphError[S]{State: n.state, Err: ErrCycle})
		}
	}
	return errs
}
