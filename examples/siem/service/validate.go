package service

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits on an event's fields: the longest each text field may be, in bytes, and the window its
// time must fall in, around the moment the service received it.
const (
	MaxRef     = 200
	MaxSource  = 200
	MaxType    = 100
	MaxMessage = 4096

	MaxAccountName = 100                 // an account's name (Service.CreateAccount)
	MaxOrg         = 200                 // an account's organisation
	MaxSkew        = 5 * time.Minute     // how far after its receipt an event may be dated
	MaxAge         = 30 * 24 * time.Hour // how far before its receipt an event may be dated
)

// checkEvent is the one check of an event's fields, whichever way it came: ParseEvents runs it on
// every event of a POST /events body (received is the request's time), and the JetStream feed's
// decode func on every message it takes (received is the time given at intake), so an event
// published straight to the stream meets the same rules. Every text field is valid UTF-8 of at
// most its limit, without control characters (C0, DEL, C1) or bidirectional formatting
// characters (which make "evil\u202Eexe.txt" display as "eviltxt.exe"); type and message are
// required; the severity is within MinSeverity to MaxSeverity; a time, when given, is within
// MaxAge before and MaxSkew after received. The error names the field.
func checkEvent(ref, source, typ, message string, severity int, at *time.Time, received time.Time) error {
	for _, f := range []struct {
		name, v  string
		max      int
		required bool
	}{
		{"ref", ref, MaxRef, false},
		{"source", source, MaxSource, false},
		{"type", typ, MaxType, true},
		{"message", message, MaxMessage, true},
	} {
		if err := checkText(f.name, f.v, f.max, f.required); err != nil {
			return err
		}
	}
	if severity < MinSeverity || severity > MaxSeverity {
		return fmt.Errorf(`field "severity" is %d, want %d to %d`, severity, MinSeverity, MaxSeverity)
	}
	if at == nil {
		return nil
	}
	switch {
	case at.After(received.Add(MaxSkew)):
		return fmt.Errorf(`field "time" is %s, more than %s after the event was received`, at.UTC().Format(time.RFC3339), MaxSkew)
	case at.Before(received.Add(-MaxAge)):
		return fmt.Errorf(`field "time" is %s, more than %s before the event was received`, at.UTC().Format(time.RFC3339), MaxAge)
	}
	return nil
}

func checkText(field, s string, max int, required bool) error {
	switch {
	case s == "" && required:
		return fmt.Errorf("missing required field %q", field)
	case len(s) > max:
		return fmt.Errorf("field %q is %d bytes long, want at most %d", field, len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("field %q is not valid UTF-8", field)
	}
	for i, r := range s {
		if forbidden(r) {
			return fmt.Errorf("field %q has the character %U at byte %d: control and bidirectional formatting characters are not allowed", field, r, i)
		}
	}
	return nil
}

// forbidden reports whether r may not appear in a text field: C0 controls (tab and newline
// included), DEL, C1 controls, and the bidirectional marks, embeddings, overrides and isolates.
func forbidden(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // ARABIC LETTER MARK, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // LRE..RLO, LRI..PDI
		return true
	}
	return false
}
