// Command siem is the SIEM service of the pipelines series, for real: POST /events takes
// security events, five stages authorize, enrich, persist (with their alert, in one
// transaction), alert on and distribute them, and GET /ws streams them to the websocket clients
// and the dashboard (GET /) of their account, which need its API key. Alerts are mailed from an
// outbox (-smtp-addr), retried until delivered, so a mail outage delays mail, never an event.
//
//	cd examples && go run ./siem
//
// It listens on 127.0.0.1:8080 (-addr) and keeps its data in siem.db (-db), created and migrated
// at the first start, when the demo account's API key is printed, once. -design pipe runs the
// same stage funcs as a channel-per-stage pipeline instead of fsm + group. -nats URL scales it
// out: events are published to a NATS JetStream stream (-stream, default SIEM_EVENTS) and run by
// whichever instance takes them from the shared durable consumer (-consumer, default
// siem-workers); the instances share the database. SIGINT or SIGTERM
// stops it gracefully: no new request is taken, every accepted event is finished and answered,
// then the database is closed. The service itself is package
// github.com/stagecoach-go/stagecoach/examples/siem/service; the README next to this file has the
// endpoints, the flags and the measurements.
package main
