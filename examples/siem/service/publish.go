package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
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

// decodeEvent is the feed's decode func: the event of a stream message, keyed by its account, so
// that one instance runs an account's events one at a time, in stream order. A message it cannot
// read is poison: the feed dead-letters it.
func decodeEvent(msg natsjs.Msg) (int64, *Event, error) {
	var m message
	if err := json.Unmarshal(msg.Data(), &m); err != nil {
		return 0, nil, fmt.Errorf("event: %w", err)
	}
	if m.UID == "" || m.AccountID == 0 || m.ReceivedAt.IsZero() {
		return 0, nil, errors.New("event: uid, account_id or received_at missing")
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
	for i, e := range evs {
		msg, err := encodeEvent(e)
		if err == nil {
			acks[i], err = sm.js.PublishMsgAsync(msg, natsjs.WithStallWait(publishWait))
		}
		errs[i] = err
	}
	res := make([]Result, len(evs))
	for i, e := range evs {
		var ack *natsjs.PubAck
		if errs[i] == nil {
			ack, errs[i] = waitAck(ctx, acks[i])
		}
		res[i] = sm.result(e, ack, errs[i])
	}
	return res
}

func (sm *streamMode) result(e *Event, ack *natsjs.PubAck, err error) Result {
	r := Result{Index: e.Index, Ref: e.Ref}
	switch {
	case err != nil:
		r.Status, r.Reason = StatusFailed, "publish: "+err.Error()
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
// gets its uid and received time, is published, and is answered once the stream stored it. The
// answer is 202 Accepted with the count of events queued in the Siem-Published header and one
// Result line per event, in order; 503 if none could be published.
func (s *Service) publishEvents(w http.ResponseWriter, r *http.Request, evs []*Event) {
	now := s.cfg.Now().UTC()
	for _, e := range evs {
		e.UID, e.ReceivedAt = newUID(), now
	}
	res := s.stream.publish(r.Context(), evs)
	queued, failed := 0, ""
	for _, rs := range res {
		switch rs.Status {
		case StatusQueued:
			queued++
		case StatusFailed:
			failed = rs.Reason
		}
		if rs.Status != StatusQueued { // queued events are counted once processed
			s.metrics.result(rs, "")
		}
	}
	if queued == 0 && failed != "" {
		s.cfg.Logger.Error("publish events", "err", failed)
		http.Error(w, "cannot queue events now: "+failed, http.StatusServiceUnavailable)
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
