package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// State names the stages of the order machine of the examples. Its String method, which errors
// and diagrams print, is what `stringer -type=State` generates from a `//go:generate stringer
// -type=State` line above the type (run with go generate), written out here by hand.
type State int

const (
	Validate State = iota
	Enrich
	Persist
	Done
	Rejected
)

func (s State) String() string {
	names := [...]string{"Validate", "Enrich", "Persist", "Done", "Rejected"}
	if s < 0 || int(s) >= len(names) {
		return "State(" + strconv.Itoa(int(s)) + ")"
	}
	return names[s]
}

type Order struct {
	ID     int
	Amount int
	Tags   []string
}

var store = map[int]Order{}

func validate(_ context.Context, o Order) (Order, State, error) {
	if o.Amount <= 0 {
		o.Tags = append(o.Tags, "invalid amount")
		return o, Rejected, nil
	}
	return o, Enrich, nil
}

func enrich(_ context.Context, o Order) (Order, State, error) {
	if o.Amount > 100 {
		o.Tags = append(o.Tags, "large")
	}
	return o, Persist, nil
}

func persist(_ context.Context, o Order) (Order, State, error) {
	store[o.ID] = o
	return o, Done, nil
}

// orders is the order machine of the examples, built once at package level: fsm.Must panics with
// the build error, which names the state at fault, if the graph is wrong.
var orders = fsm.Must(fsm.NewBuilder[State, Order]().
	Stage(Validate, validate, Enrich, Rejected).
	Stage(Enrich, enrich, Persist).
	Stage(Persist, persist, Done).
	Terminal(Done, Rejected).
	Build(Validate))

func orderMachine() *fsm.Machine[State, Order] { return orders }

// Example_order runs orders through validate, enrich and persist, or rejects them.
func Example_order() {
	for _, o := range []Order{{ID: 1, Amount: 250}, {ID: 2, Amount: 0}, {ID: 3, Amount: 40}} {
		o, state, err := orders.Run(context.Background(), o)
		fmt.Println(o.ID, state, o.Tags, err)
	}
	fmt.Println(len(store), "stored")
	// Output:
	// 1 Done [large] <nil>
	// 2 Rejected [invalid amount] <nil>
	// 3 Done [] <nil>
	// 2 stored
}

func ExampleBuilder_Build() {
	_, err := fsm.NewBuilder[State, Order]().
		Stage(Validate, validate, Enrich, Rejected).
		Terminal(Done, Rejected).
		Build(Validate)
	fmt.Println(err)
	fmt.Println(errors.Is(err, fsm.ErrUnknownState))
	// Output:
	// fsm: state Enrich: next state has no stage and is not terminal (declared by Validate)
	// true
}

// Must is for a machine built at package level, where a build error cannot be returned: it
// panics with that error, which names the state at fault.
func ExampleMust() {
	defer func() { fmt.Println("panic:", recover()) }()
	fsm.Must(fsm.NewBuilder[State, Order]().
		Stage(Validate, validate, Enrich, Rejected).
		Terminal(Done, Rejected).
		Build(Validate))
	// Output:
	// panic: fsm: state Enrich: next state has no stage and is not terminal (declared by Validate)
}

// A failing run's error names the state by its String method: "state Validate", not "state 0".
func ExampleStateError() {
	m := fsm.Must(fsm.NewBuilder[State, Order]().
		Stage(Validate, func(_ context.Context, o Order) (Order, State, error) {
			return o, Validate, errors.New("no customer")
		}, Enrich).
		Stage(Enrich, enrich, Persist).
		Stage(Persist, persist, Done).
		Terminal(Done).
		Build(Validate))
	_, state, err := m.Run(context.Background(), Order{ID: 4, Amount: 10})
	var se *fsm.StateError[State]
	fmt.Println(state, errors.As(err, &se), int(se.State))
	fmt.Println(err)
	// Output:
	// Validate true 0
	// fsm: state Validate: no customer
}

func ExampleMachine_Run_undeclared() {
	m, _ := fsm.NewBuilder[State, Order]().
		Stage(Validate, func(_ context.Context, o Order) (Order, State, error) { return o, Done, nil }, Rejected).
		Terminal(Done, Rejected).
		Build(Validate)
	_, state, err := m.Run(context.Background(), Order{})
	fmt.Println(state)
	fmt.Println(err)
	// Output:
	// Validate
	// fsm: state Validate: undeclared transition: returned next state Done, which it did not declare (declared: [Rejected])
}

func ExampleMachine_Mermaid() {
	fmt.Print(orderMachine().Mermaid())
	// Output:
	// stateDiagram-v2
	//     [*] --> Validate
	//     Validate --> Enrich
	//     Validate --> Rejected
	//     Enrich --> Persist
	//     Persist --> Done
	//     Done --> [*]
	//     Rejected --> [*]
}

func ExampleMachine_DOT() {
	fmt.Print(orderMachine().DOT())
	// Output:
	// digraph fsm {
	//     rankdir=LR;
	//     node [shape=box, style=rounded];
	//     __start [shape=point, label=""];
	//     "Done" [shape=doublecircle, style=solid];
	//     "Rejected" [shape=doublecircle, style=solid];
	//     __start -> "Validate";
	//     "Validate" -> "Enrich";
	//     "Validate" -> "Rejected";
	//     "Enrich" -> "Persist";
	//     "Persist" -> "Done";
	// }
}

func ExampleObserver() {
	var trace []string
	m, _ := fsm.NewBuilder[State, Order]().
		Stage(Validate, validate, Enrich, Rejected).
		Stage(Enrich, enrich, Persist).
		Stage(Persist, persist, Done).
		Terminal(Done, Rejected).
		Observe(fsm.Observer[State]{
			Leave: func(_ context.Context, s, next State, _ time.Duration, err error) {
				trace = append(trace, fmt.Sprintf("%s->%s", s, next))
			},
		}).
		Build(Validate)
	_, _, _ = m.Run(context.Background(), Order{ID: 9, Amount: 5})
	fmt.Println(strings.Join(trace, " "))
	// Output:
	// Validate->Enrich Enrich->Persist Persist->Done
}

// Step registers a plain func that always goes on to the same state: the shape pool, group and
// pipe take, so one set of stage funcs serves every design.
func ExampleBuilder_Step() {
	trim := func(_ context.Context, s string) (string, error) { return strings.TrimSpace(s), nil }
	upper := func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }
	m, err := fsm.NewBuilder[string, string]().
		Step("trim", trim, "upper").
		Step("upper", upper, "done").
		Terminal("done").
		Build("trim")
	if err != nil {
		panic(err)
	}
	v, state, err := m.Run(context.Background(), "  stagecoach ")
	fmt.Printf("%q %s %v\n", v, state, err)
	// Output: "STAGECOACH" done <nil>
}
