package service

import "context"

// SetHook makes f run first in the enrich stage of every event, for the tests that hold or fail
// an event on its way.
func SetHook(c *Config, f func(context.Context, *Event) error) { c.hook = f }

// MaxDeliver is the consumer's MaxDeliver when the service creates it: the deliveries of a
// failing event before it is dead-lettered.
const MaxDeliver = maxDeliver

// EncodeSubject is the Subject header's encoder.
var EncodeSubject = encodeSubject
