// Package loadgen drives the SIEM service: [Run] posts a bounded number of events over a number
// of concurrent clients, within a time bound, and measures events per second and request
// latency (p50, p99); [Verify] then checks in the service's SQLite file that every event the
// service acknowledged as accepted is stored exactly once.
//
// Each request carries [Config.Batch] events as NDJSON, each with a unique ref (the run's
// prefix and the event's number), so that the database can be checked against the
// acknowledgements. A request's latency runs from sending it to reading its last status line.
// Request failures are counted in the [Report], never hidden: an event counts as acknowledged
// only when its "accepted" status line was read.
//
// The command examples/siem/load is this package's command line; examples/siem/loadreport runs
// it against both designs and writes the README's table and chart.
package loadgen
