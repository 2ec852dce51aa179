// Package service is the SIEM service of the pipelines series, built for real: security events
// come in on POST /events, go through five stages, and go out to websocket clients and a live
// dashboard. It is the showcase of fsm and group, and it can run the very same stage funcs as
// the channel-per-stage design instead, to compare the two.
//
// # The five stages
//
// Each stage is a plain func(context.Context, *Event) (*Event, error) (see [Stages]):
//  1. authorize: the account may (still) report; its name and organisation are attached;
//  2. enrich: id, received time, level ([Level]) and status; an event dated more than five
//     minutes ahead is rejected;
//  3. alert: at or above the threshold, the event goes to the [Notifier] ([StoreNotifier]
//     writes the alerts table and logs; [SMTPNotifier] mails it; [Notifiers] does both);
//  4. persist: the event is written to SQLite; a ref the account already used is rejected;
//  5. distribute: the event is queued for every websocket client, without waiting for any.
//
// A stage rejects an event by setting its Reason (the event goes no further and is reported
// rejected), and fails it by returning an error or panicking (reported failed, with the stage
// and the cause). Neither touches the request's other events.
//
// # The two designs
//
// [DesignGroup] (the default) runs one [github.com/stagecoach-go/stagecoach/group.Router] for
// the whole service, whose workers run one [github.com/stagecoach-go/stagecoach/fsm.Machine] of
// the five stages; each request opens an ordered request group, submits its events and reads
// its results in order. [DesignPipe] builds one pipe pipeline for the whole service, a channel
// and a set of goroutines per stage, and each event carries a reply channel back to its request
// (the "promise" design); each stage func is wrapped to skip events already done and to keep a
// stage's error or panic on the event, since a pipe stage error would stop the whole pipeline.
//
// # JetStream mode
//
// With Config.NATS set ([DesignJetStream]), any number of instances share the work through a
// NATS JetStream stream. POST /events authenticates and checks the request as in the other
// designs, gives each event its uid and received time, publishes it on [SubjectPrefix] plus the
// account id with a Nats-Msg-Id of the account and the ref (when it has one), and waits for the
// stream to store it before answering: 202 Accepted, the count in the Siem-Published header, and
// one [Result] line per event, in order, [StatusQueued] with its uid and stream sequence, or
// rejected with the first copy's sequence when the stream already had its ref (a client's retry
// within the two-minute duplicate window), or failed when it could not be published (503 if
// none could). A queued event has not run any stage yet: the line says it is stored in the stream,
// not in the database.
//
// Every instance runs a [github.com/stagecoach-go/stagecoach/jetstream.Feed] over the shared
// durable consumer (Config.Consumer on Config.Stream), which runs the events it takes through the
// group design's machine on a router keyed by account: an instance runs an account's events one at
// a time, in stream order, while two instances may each hold events of the same account. The
// feed acknowledges an event once the machine returned without error (a rejected event counts as
// done), retries a failed one with a backoff and dead-letters it to [DeadLetterSubject] on its
// fifth delivery. Delivery is at least once, so the sinks are idempotent by the event's uid, which
// is the same on every delivery: persist skips an event whose uid is stored, and the alerts table
// has one alert an event; the log line, a mail and the websocket message may repeat. Alerts,
// websocket clients and the dashboard of an instance see the events that instance processed.
//
// [New] creates the events stream (a work queue: an acknowledged event leaves it, the database is
// the record), the dead-letter stream Config.Stream+"_DEAD" and the consumer when they are
// missing, and uses them as they are when they exist. The instances share the database: accounts,
// keys and the account ids in the messages must mean the same to all of them.
//
// # HTTP
//
// POST /events takes a bearer API key and a JSON array or NDJSON body ([ParseEvents]). The whole
// request is checked first: a missing or wrong key is 401, an account that may not report 403,
// a body that is malformed, has an unknown or missing field, is over Config.MaxBody or holds
// more than Config.MaxEvents events 400, with a message naming the problem; nothing of such a
// request is persisted. Then one NDJSON [Result] line per event is streamed back, in order,
// each as soon as it and the events before it are done. The events of one request run
// concurrently: of two events with the same ref in one request, either may be the one rejected.
//
// GET /ws streams accepted events ([View]) to websocket clients of the page's own origin (plus
// Config.Origins). Each client has a queue of Config.ClientQueue messages and a socket send
// buffer of Config.ClientBuffer bytes; a client whose queue is full has fallen behind and is
// closed with StatusPolicyViolation and [ReasonBehind]; intake and the other clients never
// wait for it. GET / is the dashboard (embedded, no CDN), GET /api/stats its JSON ([Stats]),
// GET /metrics Prometheus metrics on the service's own registry, GET /healthz a liveness check.
//
// # Storage
//
// SQLite through database/sql with parameters only, in WAL mode with a busy timeout. API keys
// read "siem_<id>_<secret>"; only the SHA-256 of the secret is stored and it is compared in
// constant time. Config.SQLite chooses how events are written: [Batch] (the default) commits
// whatever inserts (events, alerts) are waiting in one transaction on one writer connection; [OneWriter] commits
// each event on one connection; [WALPool] lets 8 connections contend for SQLite's lock.
//
// # Lifecycle
//
// [New] opens and migrates the database (seeding the demo account on a fresh one: [Service.DemoKey]
// is its key, shown once) and starts the design's workers; in JetStream mode it connects to the
// server, creates what is missing there and starts the feed. [Service.Serve] serves until its
// context ends, then stops taking connections, lets every request finish (so every accepted
// event is processed, persisted and answered), disconnects the websocket clients, waits for the
// workers and closes the database. In JetStream mode it first stops taking events from the
// stream and finishes and acknowledges every event it took (for up to 20 s; past that, what is
// left goes back to the stream for another instance); Serve also stops (with an error) when the feed stops on its own, for example after a
// connection lost for a minute. The HTTP server sets header, read and idle timeouts; each
// POST /events has its own write deadline.
package service
