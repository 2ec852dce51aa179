package fsm

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	plainID = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	genID   = regexp.MustCompile(`^s[0-9]+$`) // the ids Mermaid gives states that need one
)

// Mermaid returns the machine's graph as a Mermaid state diagram (stateDiagram-v2). The output is
// deterministic: states and transitions come in registration order. A state whose name (as %v
// prints it) is not a plain identifier gets an id sN and its name as a label.
func (m *Machine[S, T]) Mermaid() string {
	m.mustBuilt("Mermaid")
	sN := func(i int, _ string) string { return fmt.Sprintf("s%d", i) }
	ids := m.ids(func(i int, name string) string {
		if plainID.MatchString(name) && name != "state" && !genID.MatchString(name) {
			return name
		}
		return sN(i, name)
	}, sN)
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	for i, n := range m.nodes {
		if name := fmt.Sprint(n.state); ids[i] != name {
			fmt.Fprintf(&b, "    state %q as %s\n", name, ids[i])
		}
	}
	fmt.Fprintf(&b, "    [*] --> %s\n", ids[m.start])
	for i, n := range m.nodes {
		for _, e := range n.next {
			fmt.Fprintf(&b, "    %s --> %s\n", ids[i], ids[e.to])
		}
	}
	for i, n := range m.nodes {
		if n.terminal {
			fmt.Fprintf(&b, "    %s --> [*]\n", ids[i])
		}
	}
	return b.String()
}

// DOT returns the machine's graph in Graphviz's DOT language, terminal states drawn as double
// circles. The output is deterministic: states and transitions come in registration order.
func (m *Machine[S, T]) DOT() string {
	m.mustBuilt("DOT")
	ids := m.ids(func(_ int, name string) string { return strconv.Quote(name) },
		func(i int, name string) string { return strconv.Quote(fmt.Sprintf("%s (%d)", name, i)) })
	var b strings.Builder
	b.WriteString("digraph fsm {\n    rankdir=LR;\n    node [shape=box, style=rounded];\n")
	b.WriteString("    __start [shape=point, label=\"\"];\n")
	for i, n := range m.nodes {
		if n.terminal {
			fmt.Fprintf(&b, "    %s [shape=doublecircle, style=solid];\n", ids[i])
		}
	}
	fmt.Fprintf(&b, "    __start -> %s;\n", ids[m.start])
	for i, n := range m.nodes {
		for _, e := range n.next {
			fmt.Fprintf(&b, "    %s -> %s;\n", ids[i], ids[e.to])
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// ids names every node for a diagram: id(i, name) unless two states would get the same id, in
// which case the later one gets fallback(i).
func (m *Machine[S, T]) ids(id func(i int, name string) string, fallback func(i int, name string) string) []string {
	ids := make([]string, len(m.nodes))
	used := map[string]bool{}
	for i, n := range m.nodes {
		name := fmt.Sprint(n.state)
		if ids[i] = id(i, name); used[ids[i]] {
			ids[i] = fallback(i, name)
		}
		used[ids[i]] = true
	}
	return ids
}
