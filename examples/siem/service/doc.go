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
// is its key, shown once) and starts the design's workers. [Service.Serve] serves until its
// context ends, then stops taking connections, lets every request finish (so every accepted
// event is processed, persisted and answered), disconnects the websocket clients, waits for the
// workers and closes the database. The HTTP server sets header, read and idle timeouts; each
// POST /events has its own write deadline.
package service
