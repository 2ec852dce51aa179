package jetstream

import "strings"

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
