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
	Notify     State = "alert"      // (3) alert when the severity calls for it
	Persist    State = "persist"    // (4) write the event to the database
	Distribute State = "distribute" // (5) send it to the websocket clients
	Done       State = "done"
	Rejected   State = "rejected"
)

// Stages lists the five stages in order.
var Stages = []State{Authorize, Enrich, Notify, Persist, Distribute}

// maxSkew is how far in the future an event's own time may be before it is rejected.
const maxSkew = 5 * time.Minute

// stages holds what the five stage funcs need. The funcs are plain
// func(context.Context, *Event) (*Event, error): both designs run exactly these.
type stages struct {
	store     *store
	notifier  Notifier
	hub       *hub
	threshold int
	now       func() time.Time
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

// enrich gives the event its id, received time, level and status; an event dated more than
// maxSkew after it was received is rejected. An event taken from the stream (Config.NATS) got
// its id and received time at intake, before it was published, and keeps them: the id is then
// the same on every delivery, which makes persist idempotent.
func (s *stages) enrich(_ context.Context, e *Event) (*Event, error) {
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = s.now().UTC()
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = e.ReceivedAt
	}
	if e.OccurredAt.After(e.ReceivedAt.Add(maxSkew)) {
		e.Reason = fmt.Sprintf("time %s is more than %s in the future", e.OccurredAt.Format(time.RFC3339), maxSkew)
		return e, nil
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

// alert hands an event at or above the threshold to the notifier.
func (s *stages) alert(ctx context.Context, e *Event) (*Event, error) {
	if e.Severity < s.threshold {
		return e, nil
	}
	err := s.notifier.Notify(ctx, Alert{
		EventUID: e.UID, AccountID: e.AccountID, Account: e.Account, Severity: e.Severity,
		Level: e.Level, Type: e.Type, Message: e.Message, At: e.ReceivedAt,
	})
	if err != nil {
		return e, err
	}
	e.Alerted = true
	return e, nil
}

// persist writes the event; a ref the account already used rejects it. An event whose uid is
// already stored is a stream message delivered again after it was persisted: nothing is written
// and it goes on as persisted.
func (s *stages) persist(ctx context.Context, e *Event) (*Event, error) {
	err := s.store.insertEvent(ctx, e)
	if errors.Is(err, errStored) {
		return e, nil
	}
	if errors.Is(err, ErrDuplicate) {
		e.Reason = fmt.Sprintf("duplicate ref %q", e.Ref)
		return e, nil
	}
	return e, err
}

// distribute sends the event to every websocket client, without waiting for any.
func (s *stages) distribute(_ context.Context, e *Event) (*Event, error) {
	msg, err := json.Marshal(e.view())
	if err != nil {
		return e, err
	}
	s.hub.broadcast(msg)
	return e, nil
}

// funcs returns the stage funcs in the order of Stages.
func (s *stages) funcs() []func(context.Context, *Event) (*Event, error) {
	return []func(context.Context, *Event) (*Event, error){s.authorize, s.enrich, s.alert, s.persist, s.distribute}
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
		Stage(Enrich, branch(s.enrich, Notify), Notify, Rejected).
		Step(Notify, s.alert, Persist).
		Stage(Persist, branch(s.persist, Distribute), Distribute, Rejected).
		Step(Distribute, s.distribute, Done).
		Terminal(Done, Rejected).
		Observe(obs).
		Build(Authorize)
	if err != nil {
		panic(err) // the graph above is fixed: an error here is a bug in this file
	}
	return m
}
