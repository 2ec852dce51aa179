// Package chat is the chat case of the pipelines series: each message is (1) censored, (2)
// stamped with its metadata, (3) persisted and (4) distributed to its room. The four stages are
// plain funcs of [Stages], run two ways with the same result:
//
//   - [RunPipe]: a channel-per-stage pipeline (package pipe), one goroutine a stage. Every stage
//     sees the messages in input order; the stages overlap on different messages.
//   - [RunGroup]: an fsm.Machine of the four stages on a group.Router, one serial request group
//     per room. A room's messages run one at a time in order; rooms run at once on the shared
//     workers.
//
// # When to pick which
//
// Pick pipe for one stream whose stages need different concurrency or batching: a persist stage
// that batches (pipe.Batch) behind a censor stage on N workers, a global order. Its cost: a
// channel hop and a goroutine wake-up per stage per message, and one order for everything, so
// a busy room delays a quiet one.
//
// Pick fsm + group when there are many independent streams, here rooms, that must each keep
// their order but should share one set of workers, with each stream getting its own results
// back (a request, a connection, a tenant). A room's messages never overtake each other; a slow
// room does not hold the others; a message runs all four stages on one worker with no channel
// in between.
//
// Stamp numbers a room's messages in the order it receives them, which both designs keep per
// room, so both produce the same transcript ([Stages.Transcript]).
package chat
