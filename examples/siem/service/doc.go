// Package service is the SIEM service of the pipelines series, built for real: security events
// come in on POST /events, go through five stages, and go out to websocket clients and a live
// dashboard. It is the showcase of fsm and group, and it can run the very same stage funcs as
// the channel-per-stage design instead, to compare the two.
//
// # The five stages
//
// Each stage is a plain func(context.Context, *Event) (*Event, error) (see [Stages]):
//  1. authorize: the account may (still) report; its name and organisation are attached;
//  2. enrich: id, received time, level ([Level]) and status;
//  3. persist: the event is written to SQLite and, at or above the threshold, its alert with it,
//     in the same transaction; a ref the account already used is rejected, and writes no alert;
//  4. alert: wakes the outbox's sender for the alert just written (no side effect of its own);
//  5. distribute: the event is queued for the websocket clients of its account, without waiting.
//
// Persist is the first stage with an effect outside the event: a stage before it that fails
// leaves nothing behind, and nothing after it can fail. A stage rejects an event by setting its
// Reason (the event goes no further and is reported rejected), and fails it by returning an error
// or panicking (reported failed, with the stage and the cause). Neither touches the request's
// other events.
//
// # Input
//
// Every event meets one set of checks, wherever it comes from: [ParseEvents] runs them on each
// event of a POST /events body, and JetStream mode's decode func on each message taken from the
// stream, which dead-letters a message that fails them. The text fields (ref, source, type,
// message) are valid UTF-8 within their limits ([MaxRef], [MaxSource], [MaxType], [MaxMessage]),
// without control characters (C0 with tab and newline, DEL, C1) or bidirectional formatting
// characters; type, severity and message are required; the severity is [MinSeverity] to
// [MaxSeverity]; a time, when given, lies within [MaxAge] before and [MaxSkew] after the receipt.
// An event sent without a ref gets one derived from its content (see [Result]), so a client's
// retry of the same body is a duplicate, not a second copy. [Service.CreateAccount] checks an
// account's name and organisation the same way.
//
// # Alerts: the outbox
//
// The alerts table is an outbox. Its sender, one goroutine of each Service, delivers the pending
// alerts oldest first through the [Notifier] (Config.Notifier, [SMTPNotifier] with Config.SMTP,
// [Notifiers] for both), each delivery bounded by Config.AlertTimeout; a failed one is logged,
// counted (siem_alerts_failed_total) and tried again after Config.AlertRetry, doubling up to
// Config.AlertRetryMax, for as long as it takes. A mail outage delays mail, never an event.
// Instances sharing the database lease each alert before they deliver it, so none is delivered
// by two at once; delivery is at least once (a service stopped between the server's acceptance
// and its record mails it again at its next start). [SMTPNotifier] dials with a deadline, bounds
// the whole exchange, closes the connection when the service stops, and writes headers of its
// own: the subject RFC 2047-encoded (whole when it holds "=?", so that no field passes for an
// encoded word), the addresses formatted by net/mail, the event's fields in the subject and a
// quoted-printable body only.
//
// # The two designs
//
// [DesignGroup] (the default) runs one [github.com/stagecoach-go/stagecoach/group.Router] for
// the whole service, whose workers run one [github.com/stagecoach-go/stagecoach/fsm.Machine] of
// the five stages; each request opens an ordered request group, submits its events and reads
// its results in order; an event that has waited longer than Config.MaxWait (2 s) for a worker
// fails with [github.com/stagecoach-go/stagecoach/group.ErrExpired], unstored, instead of
// running late. [DesignPipe] builds one pipe pipeline for the whole service, a channel
// and a set of goroutines per stage, and each event carries a reply channel back to its request
// (the "promise" design); each stage func is wrapped to skip events already done and to keep a
// stage's error or panic on the event, since a pipe stage error would stop the whole pipeline.
//
// # JetStream mode
//
// With Config.NATS set ([DesignJetStream]), any number of instances share the work through a
// NATS JetStream stream; the credentials go in the URL or in Config.NATSUser and
// Config.NATSPassword. POST /events authenticates and checks the request as in the other
// designs, gives each event its uid, publishes it on [SubjectPrefix] plus the account id with a
// Nats-Msg-Id of the account and the ref, and waits for the stream to store it before answering:
// 202 Accepted, the count in the Siem-Published header, and one [Result] line per event, in
// order: [StatusQueued] with its uid and stream sequence; rejected with the first copy's sequence
// when the stream already had its ref (a retry within the two-minute duplicate window);
// [StatusFailed] when it is known not to be in the stream; [StatusUnknown] when its
// acknowledgement did not come within Config.PublishTimeout. When none is queued, the answer is
// 503 with Retry-After, and the client sends the same request again. A queued event has not run
// any stage yet: the line says it is stored in the stream, not in the database.
//
// Every instance runs a [github.com/stagecoach-go/stagecoach/jetstream.Feed] over the shared
// durable consumer (Config.Consumer on Config.Stream), which runs the events it takes through the
// group design's machine on a router keyed by account: an instance runs an account's events one at
// a time, in stream order, while two instances may each hold events of the same account. The
// feed acknowledges an event once the machine returned without error (a rejected event counts as
// done), retries a failed one with a backoff and dead-letters it to [DeadLetterSubject] on its
// fifth delivery; a message that fails the input checks is dead-lettered at once. Delivery is at
// least once, so the sinks are idempotent by the event's uid, which is the same on every
// delivery: persist skips an event whose uid is stored (its alert was written with it); the
// websocket message may repeat. Websocket clients and the dashboard of an instance see the events
// that instance processed.
//
// [New] creates the events stream (a work queue: an acknowledged event leaves it, the database is
// the record), the dead-letter stream Config.Stream+"_DEAD" and the consumer when they are
// missing, and uses them as they are when they exist. The instances share the database: accounts,
// keys and the account ids in the messages must mean the same to all of them.
//
// # HTTP
//
// Every request whose Host is not the service's (the address Serve listens on, and Config.Hosts)
// is refused with 421: a page of another site whose name resolves here reaches nothing.
//
// POST /events takes a bearer API key (the scheme's name in any case) and a JSON array or NDJSON
// body ([ParseEvents]). The whole request is checked first: a missing or wrong key is 401, an
// account that may not report 403, a body over Config.MaxBody 413, a body that is malformed, has
// an unknown or missing field, a field that fails the input checks, or more than
// Config.MaxEvents events 400, with a message naming the event and the field; nothing of such a
// request is persisted. Then one NDJSON [Result] line per event is streamed back, in order, each
// as soon as it and the events before it are done. The events of one request run concurrently:
// of two events with the same ref in one request, either may be the one rejected.
//
// GET /ws streams the viewer's account's accepted events ([View]) to a websocket client that
// carries the account's API key (Authorization header) or a session (the cookie [SessionCookie],
// which POST /api/session sets for the key, DELETE /api/session clears), from a page of the
// service's own origin (plus Config.Origins). Each client has a queue of Config.ClientQueue
// messages and a socket send buffer of Config.ClientBuffer bytes; a client whose queue is full,
// or a write to which outlasts Config.WriteTimeout, has fallen behind: it is closed (with
// StatusPolicyViolation and [ReasonBehind] when a close frame can still reach it) and counted;
// intake and the other clients never wait for it. GET / is the dashboard (embedded, no CDN); GET
// /api/events the account's latest stored events and GET /api/stats its counts by level (both
// from the database) with the instance's own counts ([Stats]), both with the key or a session;
// GET /metrics Prometheus metrics on the service's own registry; GET /healthz a liveness check;
// GET /readyz 200 when the service can take events, 503 with the reason otherwise.
//
// # Storage
//
// SQLite through database/sql with parameters only, in WAL mode with a busy timeout. API keys
// read "siem_<id>_<secret>"; only the SHA-256 of the secret is stored and it is compared in
// constant time; a session token is stored as its SHA-256 too. Config.SQLite chooses how events
// are written: [Batch] (the default) commits whatever writes are waiting in one transaction on one
// writer connection, each write under its own savepoint; [OneWriter] commits each write on one
// connection; [WALPool] lets 8 connections contend for SQLite's lock.
//
// # Lifecycle
//
// [New] opens and migrates the database and starts the design's workers (in JetStream mode it
// connects to the server, creates what is missing there and starts the feed), then seeds the demo
// account on a fresh database ([Service.DemoKey] is its key, shown once): a start that fails
// leaves no demo account behind. [Service.Serve] serves until its context ends, then stops
// taking connections, lets every request finish (so every accepted event is processed,
// persisted and answered), disconnects the websocket clients, waits for the workers, stops the
// alert sender at once (a delivery in progress is abandoned and its alert stays pending) and
// closes the database. In JetStream mode it first stops taking events from the stream and
// finishes and acknowledges every event it took (for up to 20 s; past that, what is left goes
// back to the stream for another instance); Serve also stops (with an error) when the feed stops
// on its own, for example after a connection lost for a minute. The HTTP server sets header,
// read and idle timeouts; each POST /events has its own write deadline.
package service
