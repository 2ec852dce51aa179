package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Input is one event as a client posts it. Type, Severity and Message are required; Ref, when
// given, must be unique for the account: a second event with the same Ref is rejected, which
// makes retries safe.
type Input struct {
	Ref      string     `json:"ref,omitempty"`
	Source   string     `json:"source,omitempty"`
	Type     string     `json:"type"`
	Severity *int       `json:"severity"`
	Message  string     `json:"message"`
	Time     *time.Time `json:"time,omitempty"`
}

// Event is an event on its way through the five stages. The stages fill it in; Reason is set
// when a stage rejects it, and a rejected event goes through no further stage.
type Event struct {
	Index      int // position in its request
	AccountID  int64
	Account    string
	Org        string
	UID        string
	Ref        string
	Source     string
	Type       string
	Severity   int
	Level      string
	Message    string
	Status     string
	OccurredAt time.Time
	ReceivedAt time.Time
	Alerted    bool
	Reason     string // why a stage rejected the event; empty if it was not rejected
}

// Rejected reports whether a stage rejected the event.
func (e *Event) Rejected() bool { return e.Reason != "" }

// View is an accepted event as websocket clients and the dashboard receive it.
type View struct {
	UID        string    `json:"uid"`
	Ref        string    `json:"ref,omitempty"`
	Account    string    `json:"account"`
	Org        string    `json:"org"`
	Source     string    `json:"source"`
	Type       string    `json:"type"`
	Severity   int       `json:"severity"`
	Level      string    `json:"level"`
	Message    string    `json:"message"`
	Status     string    `json:"status"`
	Alerted    bool      `json:"alerted"`
	OccurredAt time.Time `json:"occurred_at"`
	ReceivedAt time.Time `json:"received_at"`
}

func (e *Event) view() View {
	return View{
		UID: e.UID, Ref: e.Ref, Account: e.Account, Org: e.Org, Source: e.Source, Type: e.Type,
		Severity: e.Severity, Level: e.Level, Message: e.Message, Status: e.Status,
		Alerted: e.Alerted, OccurredAt: e.OccurredAt, ReceivedAt: e.ReceivedAt,
	}
}

// Result is the status line POST /events streams back for each event, in request order.
type Result struct {
	Index  int    `json:"index"`
	Ref    string `json:"ref,omitempty"`
	UID    string `json:"uid,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`    // JetStream mode: the event's stream sequence
	Status string `json:"status"`           // accepted, rejected or failed; queued in JetStream mode
	Reason string `json:"reason,omitempty"` // why it was rejected or failed
}

// The statuses of a Result.
const (
	StatusAccepted = "accepted"
	StatusRejected = "rejected"
	StatusFailed   = "failed"
	// StatusQueued is JetStream mode's: the stream has stored the event, and an instance will
	// run it through the stages.
	StatusQueued = "queued"
)

// Severity bounds and the levels derived from it.
const (
	MinSeverity = 0
	MaxSeverity = 10
)

// Level names the band of a severity: low (0-3), medium (4-6), high (7-8), critical (9-10).
func Level(severity int) string {
	switch {
	case severity >= 9:
		return "critical"
	case severity >= 7:
		return "high"
	case severity >= 4:
		return "medium"
	default:
		return "low"
	}
}

// Levels lists the levels from lowest to highest.
var Levels = []string{"low", "medium", "high", "critical"}

// ErrTooMany is wrapped by ParseEvents when the body holds more events than allowed.
var ErrTooMany = errors.New("too many events")

// ParseEvents reads a request body holding either one JSON array of events or NDJSON (one event
// object a line) and checks every event: no unknown field, the required fields present,
// severity within bounds, at most max events. The error names the problem and the event's
// position (counted from 0). Nothing is returned with an error: a request is taken whole or not
// at all.
func ParseEvents(body io.Reader, max int) ([]Input, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("empty body: want a JSON array or NDJSON of events")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if trimmed[0] == '[' {
		return parseArray(dec, max)
	}
	return parseStream(dec, max)
}

func parseArray(dec *json.Decoder, max int) ([]Input, error) {
	var ins []Input
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	for dec.More() {
		in, err := decodeOne(dec, len(ins), max)
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("malformed JSON after event %d: %w", len(ins)-1, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed JSON: data after the array")
	}
	return ins, nil
}

func parseStream(dec *json.Decoder, max int) ([]Input, error) {
	var ins []Input
	for dec.More() {
		in, err := decodeOne(dec, len(ins), max)
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	return ins, nil
}

func decodeOne(dec *json.Decoder, i, max int) (Input, error) {
	if i >= max {
		return Input{}, fmt.Errorf("%w: more than %d in one request", ErrTooMany, max)
	}
	var in Input
	if err := dec.Decode(&in); err != nil {
		return Input{}, fmt.Errorf("event %d: malformed JSON: %w", i, err)
	}
	if err := in.check(); err != nil {
		return Input{}, fmt.Errorf("event %d: %w", i, err)
	}
	return in, nil
}

func (in Input) check() error {
	switch {
	case in.Type == "":
		return errors.New(`missing required field "type"`)
	case in.Message == "":
		return errors.New(`missing required field "message"`)
	case in.Severity == nil:
		return errors.New(`missing required field "severity"`)
	case *in.Severity < MinSeverity || *in.Severity > MaxSeverity:
		return fmt.Errorf(`field "severity" is %d, want %d to %d`, *in.Severity, MinSeverity, MaxSeverity)
	case len(in.Ref) > 200:
		return fmt.Errorf(`field "ref" is %d bytes long, want at most 200`, len(in.Ref))
	}
	return nil
}
