package service

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	stageotel "github.com/stagecoach-go/stagecoach/otel"
)

// message is an event as it travels in the stream: what the client posted, the account that
// posted it, and the uid and received time given at intake, the same on every delivery.
type message struct {
	UID        string     `json:"uid"`
	AccountID  int64      `json:"account_id"`
	Ref        string     `json:"ref,omitempty"`
	Source     string     `json:"source"`
	Type       string     `json:"type"`
	Severity   int        `json:"severity"`
	Message    string     `json:"message"`
	OccurredAt *time.Time `json:"occurred_at,omitempty"`
	ReceivedAt time.Time  `json:"received_at"`
}

// check checks a message taken from the stream on subject, at now.
func (m message) check(subject string, now time.Time) error {
	switch {
	case m.AccountID <= 0 || subject != SubjectPrefix+strconv.FormatInt(m.AccountID, 10):
		return fmt.Errorf("account_id %d is not that of the subject %q", m.AccountID, subject)
	case !validUID(m.UID):
		return fmt.Errorf("uid %q is not 24 hex digits", m.UID)
	case m.ReceivedAt.IsZero() || m.ReceivedAt.After(now.Add(MaxSkew)):
		return fmt.Errorf("received_at %s is missing or in the future", m.ReceivedAt.Format(time.RFC3339))
	}
	return checkEvent(m.Ref, m.Source, m.Type, m.Message, m.Severity, m.OccurredAt, m.ReceivedAt)
}

func validUID(s string) bool {
	if len(s) != 24 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// HeaderMsgID is the header JetStream deduplicates publications by, within the stream's
// duplicate window.
const HeaderMsgID = "Nats-Msg-Id"

// encodeEvent makes the stream message of an event: subject SubjectPrefix + account id, and a
// Nats-Msg-Id of account id and ref when the event has a ref, so that a client's retry is dropped
// by the stream.
func encodeEvent(e *Event) (*nats.Msg, error) {
	m := message{UID: e.UID, AccountID: e.AccountID, Ref: e.Ref, Source: e.Source, Type: e.Type,
		Severity: e.Severity, Message: e.Message, ReceivedAt: e.ReceivedAt}
	if !e.OccurredAt.IsZero() {
		m.OccurredAt = &e.OccurredAt
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(SubjectPrefix + strconv.FormatInt(e.AccountID, 10))
	msg.Data = data
	if e.Ref != "" {
		msg.Header.Set(HeaderMsgID, fmt.Sprintf("%d:%s", e.AccountID, e.Ref))
	}
	return msg, nil
}

// decoder returns the feed's decode func: the event of a stream message, keyed by its account, so
// that one instance runs an account's events one at a time, in stream order. The message meets
// the checks of POST /events (checkEvent, against the time it was received at intake), carries a
// uid as intake gives it, and is on its own account's subject; a message that does not, or that
// it cannot read, is poison: the feed dead-letters it at once, with the reason in its
// Dead-Letter-Error header, and nothing of it is stored.
func decoder(now func() time.Time) func(natsjs.Msg) (int64, *Event, error) {
	return func(msg natsjs.Msg) (int64, *Event, error) {
		return decodeEvent(msg, now())
	}
}

func decodeEvent(msg natsjs.Msg, now time.Time) (int64, *Event, error) {
	var m message
	dec := json.NewDecoder(bytes.NewReader(msg.Data()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return 0, nil, fmt.Errorf("event: %w", err)
	}
	if err := m.check(msg.Subject(), now); err != nil {
		return 0, nil, fmt.Errorf("event: %w", err)
	}
	e := &Event{UID: m.UID, AccountID: m.AccountID, Ref: m.Ref, Source: m.Source, Type: m.Type,
		Severity: m.Severity, Message: m.Message, ReceivedAt: m.ReceivedAt}
	if m.OccurredAt != nil {
		e.OccurredAt = *m.OccurredAt
	}
	return m.AccountID, e, nil
}

// publish publishes a request's events in order and waits for the stream to store each: it
// returns one Result per event, queued with its uid and stream sequence, rejected when the
// stream already had its ref (a retry within the duplicate window; seq is then the first copy's),
// or failed.
func (sm *streamMode) publish(ctx context.Context, evs []*Event) []Result {
	acks := make([]natsjs.PubAckFuture, len(evs))
	errs := make([]error, len(evs))
	sent := make([]bool, len(evs))
	spans := make([]trace.Span, len(evs))
	for i, e := range evs {
		msg, err := encodeEvent(e)
		if err == nil {
			_, spans[i] = sm.tr.ms.StartSend(ctx, msg) // "send <stream>", its context in the headers
			acks[i], err = sm.js.PublishMsgAsync(msg, natsjs.WithStallWait(sm.publishWait))
			sent[i] = err == nil
		}
		errs[i] = err
	}
	res := make([]Result, len(evs))
	for i, e := range evs {
		var ack *natsjs.PubAck
		if errs[i] == nil {
			ack, errs[i] = waitAck(ctx, acks[i])
		}
		if spans[i] != nil {
			stageotel.EndSend(spans[i], errs[i])
		}
		res[i] = sm.result(e, ack, errs[i], sent[i])
	}
	return res
}

// result is the status line of a publication. An error is failed only when the event is known
// not to be in the stream: it was never handed to the connection, or no stream listens on its
// subject; any other error (no acknowledgement in time, the connection lost meanwhile) may have
// come after the stream stored it, and is unknown.
func (sm *streamMode) result(e *Event, ack *natsjs.PubAck, err error, sent bool) Result {
	r := Result{Index: e.Index, Ref: e.Ref}
	switch {
	case err != nil && (!sent || errors.Is(err, nats.ErrNoResponders) || errors.Is(err, natsjs.ErrNoStreamResponse)):
		r.Status, r.Reason = StatusFailed, "publish: "+err.Error()
	case err != nil:
		r.Status, r.Reason = StatusUnknown, "publish: "+err.Error()+"; the stream may have stored it: send it again with the same ref"
	case ack.Duplicate:
		sm.duplicates.Add(1)
		r.Status, r.Reason, r.Seq = StatusRejected, fmt.Sprintf("duplicate ref %q", e.Ref), ack.Sequence
	default:
		sm.published.Add(1)
		r.Status, r.UID, r.Seq = StatusQueued, e.UID, ack.Sequence
	}
	return r
}

// waitAck waits for the stream's acknowledgement of one publication. The JetStream context's
// async timeout (publishWait) bounds the wait when ctx does not end.
func waitAck(ctx context.Context, f natsjs.PubAckFuture) (*natsjs.PubAck, error) {
	select {
	case ack := <-f.Ok():
		return ack, nil
	case err := <-f.Err():
		return nil, err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// publishEvents answers POST /events in JetStream mode, once the request is checked: every event
// gets its uid, is published, and is answered once the stream stored it. The answer is 202
// Accepted with the count of events queued in the Siem-Published header and one Result line per
// event, in order; when none was queued (and not every one a duplicate), 503 with Retry-After:
// the client sends the same request again, which the events' refs make safe.
func (s *Service) publishEvents(w http.ResponseWriter, r *http.Request, evs []*Event) {
	for _, e := range evs {
		e.UID = newUID()
	}
	res := s.stream.publish(r.Context(), evs)
	queued, failed := 0, ""
	for _, rs := range res {
		switch rs.Status {
		case StatusQueued:
			queued++
		case StatusFailed, StatusUnknown:
			failed = rs.Reason
		}
		if rs.Status != StatusQueued { // queued events are counted once processed
			s.metrics.result(rs, "")
		}
	}
	if queued == 0 && failed != "" {
		s.cfg.Logger.Error("publish events", "err", failed)
		w.Header().Set("Retry-After", "2")
		http.Error(w, "cannot queue events now ("+failed+"); send the same request again: each event's ref, given or derived, makes the retry safe",
			http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Siem-Published", strconv.Itoa(queued))
	w.WriteHeader(http.StatusAccepted)
	enc := json.NewEncoder(w)
	for _, rs := range res {
		enc.Encode(rs) // a client gone away: nothing to do, the events are stored
	}
}
