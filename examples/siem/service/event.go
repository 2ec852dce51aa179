package service

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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

// Result is the status line POST /events streams back for each event, in request order. Ref is
// the event's ref: the client's, or, for an event sent without one, the ref the service derived
// from its content ("~" and 24 hex digits), which a retry of the same body derives again.
type Result struct {
	Index  int    `json:"index"`
	Ref    string `json:"ref,omitempty"`
	UID    string `json:"uid,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`    // JetStream mode: the event's stream sequence
	Status string `json:"status"`           // accepted, rejected, failed or unknown; queued in JetStream mode
	Reason string `json:"reason,omitempty"` // why it was rejected or failed
}

// The statuses of a Result.
const (
	StatusAccepted = "accepted"
	StatusRejected = "rejected"
	// StatusFailed: the event is known not to be stored. Sending it again stores it once.
	StatusFailed = "failed"
	// StatusUnknown: the service cannot tell whether the event was stored (JetStream mode: the
	// stream's acknowledgement did not come). Send it again with the same ref (the one in the
	// status line, derived when the client sent none): it is then stored once, or rejected as
	// a duplicate if the first copy was stored.
	StatusUnknown = "unknown"
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

// deriveRefs returns the ref of each input: its own, or, for one sent without, a ref derived from
// its content: "~" and a hash of its source, type, severity, message and time, and of how many
// events of the same content came before it in the request. A client's retry of the same body
// therefore carries the same refs, and is rejected as a duplicate instead of stored twice; two
// identical events in one request stay two. Two events identical in every field, time
// included (or both without one), sent in two requests, are one event: give each a time or a
// ref to report the same thing twice.
func deriveRefs(ins []Input) []string {
	refs := make([]string, len(ins))
	seen := map[[32]byte]int{}
	for i, in := range ins {
		if in.Ref != "" {
			refs[i] = in.Ref
			continue
		}
		at := ""
		if in.Time != nil {
			at = in.Time.UTC().Format(time.RFC3339Nano)
		}
		// The fields hold no control character (checkEvent): NUL separates them unambiguously.
		h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d\x00%s\x00%s", in.Source, in.Type, *in.Severity, in.Message, at))
		n := seen[h]
		seen[h] = n + 1
		h = sha256.Sum256(fmt.Appendf(h[:], "\x00%d", n))
		refs[i] = "~" + hex.EncodeToString(h[:12])
	}
	return refs
}

// ErrTooMany is wrapped by ParseEvents when the body holds more events than allowed.
var ErrTooMany = errors.New("too many events")

// ParseEvents reads a request body holding either one JSON array of events or NDJSON (one event
// object a line) received at now, and checks every event: no unknown field, at most max events,
// and the checks every event meets, whichever way it comes (the required fields present, each
// text field within its length and free of control and bidirectional formatting characters, the
// severity within bounds, the time within MaxAge before and MaxSkew after now). The error names
// the problem, the field and the event's position (counted from 0). Nothing is returned with an
// error: a request is taken whole or not at all.
func ParseEvents(body io.Reader, max int, now time.Time) ([]Input, error) {
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
		return parseArray(dec, max, now)
	}
	return parseStream(dec, max, now)
}

func parseArray(dec *json.Decoder, max int, now time.Time) ([]Input, error) {
	var ins []Input
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	for dec.More() {
		in, err := decodeOne(dec, len(ins), max, now)
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

func parseStream(dec *json.Decoder, max int, now time.Time) ([]Input, error) {
	var ins []Input
	for dec.More() {
		in, err := decodeOne(dec, len(ins), max, now)
		if err != nil {
			return nil, err
		}
		ins = append(ins, in)
	}
	return ins, nil
}

func decodeOne(dec *json.Decoder, i, max int, now time.Time) (Input, error) {
	if i >= max {
		return Input{}, fmt.Errorf("%w: more than %d in one request", ErrTooMany, max)
	}
	var in Input
	if err := dec.Decode(&in); err != nil {
		return Input{}, fmt.Errorf("event %d: malformed JSON: %w", i, err)
	}
	if err := in.check(now); err != nil {
		return Input{}, fmt.Errorf("event %d: %w", i, err)
	}
	return in, nil
}

func (in Input) check(now time.Time) error {
	if in.Severity == nil {
		return errors.New(`missing required field "severity"`)
	}
	return checkEvent(in.Ref, in.Source, in.Type, in.Message, *in.Severity, in.Time, now)
}
