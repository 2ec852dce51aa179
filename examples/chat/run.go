package chat

import (
	"context"
	"errors"
	"sync"

	"github.com/stagecoach-go/stagecoach/fsm"
	"github.com/stagecoach-go/stagecoach/group"
	"github.com/stagecoach-go/stagecoach/pipe"
)

// RunPipe runs the messages through the four stages as a channel-per-stage pipeline: one
// goroutine a stage, so every stage sees the messages in input order, and the stages work on
// different messages at once. A stage error stops the pipeline and is returned.
func RunPipe(ctx context.Context, s *Stages, msgs []Message) error {
	p := pipe.New(ctx)
	c := pipe.FromSlice(p, msgs)
	c = pipe.Map(p, c, s.Censor)
	c = pipe.Map(p, c, s.Stamp)
	c = pipe.Map(p, c, s.Persist)
	c = pipe.Map(p, c, s.Distribute)
	return pipe.Drain(p, c)
}

// State is a state of the chat's machine.
type State int

// The chat machine's states.
const (
	Censor State = iota
	Stamp
	Persist
	Distribute
	Done
)

// Machine builds the four stages into an fsm.Machine.
func Machine(s *Stages) *fsm.Machine[State, Message] {
	m, err := fsm.NewBuilder[State, Message]().
		Step(Censor, s.Censor, Stamp).
		Step(Stamp, s.Stamp, Persist).
		Step(Persist, s.Persist, Distribute).
		Step(Distribute, s.Distribute, Done).
		Terminal(Done).
		Build(Censor)
	if err != nil {
		panic(err) // a fixed graph: an error is a bug here
	}
	return m
}

// RunGroup runs the messages through the machine on a router of workers, one serial request
// group per room: a room's messages run one at a time in order, different rooms run at once on
// the shared workers. Every message gets its result; the errors are joined.
func RunGroup(ctx context.Context, s *Stages, msgs []Message, workers int) error {
	r := group.New[string](Machine(s).Do, group.Workers(workers))
	var (
		groups = map[string]*group.Group[string, Message]{}
		mu     sync.Mutex
		errs   []error
		wg     sync.WaitGroup
	)
	for _, m := range msgs {
		g, ok := groups[m.Room]
		if !ok {
			var err error
			if g, err = r.Open(ctx, m.Room, group.Serial()); err != nil {
				errs = append(errs, err)
				break
			}
			groups[m.Room] = g
			wg.Go(func() { // read the room's results while messages are submitted
				for _, err := range g.Results() {
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			})
		}
		if err := g.Submit(ctx, m); err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			break
		}
	}
	for _, g := range groups {
		g.Close()
	}
	wg.Wait()
	return errors.Join(append(errs, r.Shutdown(ctx))...)
}
