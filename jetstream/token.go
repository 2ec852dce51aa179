package jetstream

import (
	"strings"

	natsjs "github.com/nats-io/nats.go/jetstream"
)

// Token returns token i of a dot-separated NATS subject, counting from 0 at the left, or from -1
// at the right for a negative i, and "" if the subject has no such token. It is the usual way to
// derive a message's group key from its subject: with subjects "orders.<region>.<customer>",
// Token(m.Subject(), 2) keys the groups by customer, so each customer's orders are processed one
// at a time, in stream order.
func Token(subject string, i int) string {
	if i < 0 {
		for ; i < -1; i++ {
			j := strings.LastIndexByte(subject, '.')
			if j < 0 {
				return ""
			}
			subject = subject[:j]
		}
		return subject[strings.LastIndexByte(subject, '.')+1:]
	}
	for ; i > 0; i-- {
		j := strings.IndexByte(subject, '.')
		if j < 0 {
			return ""
		}
		subject = subject[j+1:]
	}
	if j := strings.IndexByte(subject, '.'); j >= 0 {
		return subject[:j]
	}
	return subject
}

// numDelivered reads the delivery count of a JetStream message from its reply subject, as
// Msg.Metadata does, without the allocations of Metadata (which the feed would pay on every
// message besides the decode func's own call). The subject is
// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>, or, from
// newer servers, the same with <domain>.<account hash> after $JS.ACK and possibly more tokens at
// the end. Anything else (or a count that is not a plain decimal number) is left to Metadata, so
// that on a message a consumer delivered the result, and any error, is Metadata's.
func numDelivered(m natsjs.Msg) (uint64, error) {
	if n, ok := parseNumDelivered(m.Reply()); ok {
		return n, nil
	}
	meta, err := m.Metadata()
	if err != nil {
		return 0, err
	}
	return meta.NumDelivered, nil
}

// Token positions in an acknowledgement subject: the count of deliveries in the old and the new
// form, and their total number of tokens (the new form has at least 11).
const (
	ackV1Delivered, ackV1Tokens = 4, 9
	ackV2Delivered, ackV2Tokens = 6, 11
)

// parseNumDelivered is numDelivered's fast path on the reply subject; ok is false where it
// leaves the subject to Metadata.
func parseNumDelivered(reply string) (n uint64, ok bool) {
	const prefix = "$JS.ACK."
	if !strings.HasPrefix(reply, prefix) {
		return 0, false
	}
	var tok string
	switch tokens := strings.Count(reply, ".") + 1; {
	case tokens == ackV1Tokens:
		tok = Token(reply, ackV1Delivered)
	case tokens >= ackV2Tokens:
		tok = Token(reply, ackV2Delivered)
	default:
		return 0, false
	}
	if tok == "" || len(tok) > 19 { // 19 digits never overflow a uint64
		return 0, false
	}
	for i := range len(tok) {
		c := tok[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
