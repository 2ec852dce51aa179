// Package loadgen drives the SIEM service and checks what it stored, in one of two modes.
//
// # Closed loop
//
// [Run] posts a bounded number of events over a number of concurrent clients, each sending its
// next request when its last is answered, within a time bound, and measures events per second
// and request latency (p50, p99, p99.9) from sending a request to its last status line. A
// closed-loop client that waits for a slow answer does not send meanwhile, so its latencies
// leave out the requests it would have sent: they show throughput, not the latency a service
// sees under a given arrival rate.
//
// # Open loop
//
// [RunOpen] sends requests on a schedule ([Schedule]: Poisson or constant arrivals at
// [Config.Rate] a second for [Config.Duration]), whatever the answers, over [Config.Clients]
// connections. An arrival waits in one queue for the first free connection, as a caller of a
// connection pool does; its latency runs from the time it was scheduled, so the time it waited
// to be sent counts (no coordinated omission, as wrk2 and HdrHistogram measure). On Linux the
// schedule is paced by a thread that sleeps in nanosleep, so a Go timer's millisecond
// granularity does not add to the latencies.
//
// The report gives the offered rate (the scheduled requests over the duration) and the rate
// achieved (the accepted events answered by the end of the arrivals, in requests' worth, over
// the duration: a service that keeps up then has only the requests in flight unanswered, one that
// does not a backlog growing with the duration). A run that achieved less than [Reached] of the
// offered rate, or left requests unsent when its timeout ended, did not keep up: [Report.Reached] is false and the latencies are not
// set, since they would measure how long the backlog took to drain. [Report.Outcome] says so.
//
// # Exactly once
//
// Each request carries [Config.Batch] events as NDJSON, each with a unique ref (the run's
// prefix and the event's number), so that the database can be checked against the
// acknowledgements: [Verify] checks in the service's SQLite file that every event the service
// acknowledged is stored exactly once. Request failures are counted in the [Report], never
// hidden: an event counts as acknowledged only when its "accepted" status line was read, or its
// "queued" one in JetStream mode (202), where [WaitStored] waits for the instances to store it.
//
// The command examples/siem/load is this package's command line; examples/siem/loadreport runs
// it against both designs and writes the README's tables and charts.
package loadgen
