package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stagecoach-go/stagecoach/fsm"
)

// State is a state of the service's machine: the five stages and the two ends.
type State string

// The states, in the order an event goes through them.
const (
	Authorize  State = "authorize"  // (1) the account may report; attach its details
	Enrich     State = "enrich"     // (2) metadata: time, level, status, id
	Persist    State = "persist"    // (3) write the event, and its alert when the severity calls for it
	Notify     State = "alert"      // (4) wake the outbox's sender for an alert just written
	Distribute State = "distribute" // (5) send it to the websocket clients
	Done       State = "done"
	Rejected   State = "rejected"
)

// Stages lists the five stages in order.
var Stages = []State{Authorize, Enrich, Persist, Notify, Distribute}

// stages holds what the five stage funcs need. The funcs are plain
// func(context.Context, *Event) (*Event, error): both designs run exactly these.
type stages struct {
	store     *store
	outbox    *sender
	hub       *hub
	threshold int
	now       func() time.Time
	hook      func(context.Context, *Event) error // tests only: runs first in enrich
}

// authorize checks that the account may still report (it may have been disabled since the
// request was authenticated) and attaches its name and organisation.
func (s *stages) authorize(ctx context.Context, e *Event) (*Event, error) {
	a, err := s.store.account(ctx, e.AccountID)
	if err != nil {
		return e, err
	}
	if !a.MayReport {
		e.Reason = errForbidden.Error()
		return e, nil
	}
	e.Account, e.Org = a.Name, a.Org
	return e, nil
}

// enrich gives the event its id, received time (when the request did not), level and status; the
// event's fields were checked before (checkEvent), so it rejects nothing. An event taken from the stream (Config.NATS) got
// its id and received time at intake, before it was published, and keeps them: the id is then
// the same on every delivery, which makes persist idempotent.
func (s *stages) enrich(ctx context.Context, e *Event) (*Event, error) {
	if s.hook != nil {
		if err := s.hook(ctx, e); err != nil {
			return e, err
		}
	}
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = s.now().UTC()
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = e.ReceivedAt
	}
	if e.UID == "" {
		e.UID = newUID()
	}
	e.Level = Level(e.Severity)
	e.Status = "open"
	return e, nil
}

// newUID returns a random event id: 12 bytes, hex.
func newUID() string {
	var id [12]byte
	rand.Read(id[:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(id[:])
}

// persist writes the event and, at or above the threshold, its alert, in one transaction; a ref
// the account already used rejects it, and writes no alert. An event whose uid is already stored
// is a stream message delivered again after it was persisted: nothing is written (its alert was
// written with it) and it goes on as persisted.
func (s *stages) persist(ctx context.Context, e *Event) (*Event, error) {
	alert := e.Severity >= s.threshold
	err := s.store.insertEvent(ctx, e, alert)
	if errors.Is(err, ErrDuplicate) {
		e.Reason = fmt.Sprintf("duplicate ref %q", e.Ref)
		return e, nil
	}
	if err != nil && !errors.Is(err, errStored) {
		return e, err
	}
	e.Alerted = alert
	return e, nil
}

// alert wakes the outbox's sender when persist wrote an alert. It has no side effect of its own
// and cannot fail: the alert is delivered from the outbox, after the event is stored.
func (s *stages) alert(_ context.Context, e *Event) (*Event, error) {
	if e.Alerted {
		s.outbox.wake()
	}
	return e, nil
}

// distribute sends the event to the websocket clients of its account, without waiting for any.
// It cannot fail: a View always marshals.
func (s *stages) distribute(_ context.Context, e *Event) (*Event, error) {
	msg, _ := json.Marshal(e.view())
	s.hub.broadcast(e.AccountID, msg)
	return e, nil
}

// funcs returns the stage funcs in the order of Stages.
func (s *stages) funcs() []func(context.Context, *Event) (*Event, error) {
	return []func(context.Context, *Event) (*Event, error){s.authorize, s.enrich, s.persist, s.alert, s.distribute}
}

// branch turns a plain stage func into an fsm stage: to next, or to Rejected when the func
// rejected the event.
func branch(fn func(context.Context, *Event) (*Event, error), next State) fsm.StageFunc[State, *Event] {
	return func(ctx context.Context, e *Event) (*Event, State, error) {
		e, err := fn(ctx, e)
		if err == nil && e.Rejected() {
			return e, Rejected, nil
		}
		return e, next, err
	}
}

// machine builds the five-stage machine the group design runs; obs sees every stage.
func (s *stages) machine(obs fsm.Observer[State]) *fsm.Machine[State, *Event] {
	m, err := fsm.NewBuilder[State, *Event]().
		Stage(Authorize, branch(s.authorize, Enrich), Enrich, Rejected).
		Step(Enrich, s.enrich, Persist).
		Stage(Persist, branch(s.persist, Notify), Notify, Rejected).
		Step(Notify, s.alert, Distribute).
		Step(Distribute, s.distribute, Done).
		Terminal(Done, Rejected).
		Observe(obs).
		Build(Authorize)
	if err != nil {
		panic(err) // the graph above is fixed: an error here is a bug in this file
	}
	return m
}
