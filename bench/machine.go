package bench

import (
	"context"
	"fmt"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// Machine builds the fsm.Machine that runs w's stages in order: state i runs stage i and goes on
// to state i+1; state len(w.Stages) is terminal. The shared stage funcs are registered as they
// are, with Builder.Step.
func Machine(w Workload) *fsm.Machine[int, Item] {
	b := fsm.NewBuilder[int, Item]()
	for i, stage := range w.Stages {
		b.Step(i, stage, i+1)
	}
	m, err := b.Terminal(len(w.Stages)).Build(0)
	if err != nil {
		panic(fmt.Sprintf("bench: the machine of %s does not build: %v", w.Name, err))
	}
	return m
}

// Work returns the work func that the fused designs (pool, group) run on every item of w: the Do
// method of w's [Machine], so the machine's dispatch is part of what they are measured on.
func Work(w Workload) func(context.Context, Item) (Item, error) {
	return Machine(w).Do
}
