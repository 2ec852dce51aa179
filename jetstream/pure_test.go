package jetstream_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"

	"github.com/stagecoach-go/stagecoach/jetstream"
)

// TestExponentialProperties: the first delay is min, every delay is within [min, max], and each
// is the previous one doubled, capped at max.
func TestExponentialProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lo := time.Duration(rapid.Int64Range(1, int64(time.Hour)).Draw(t, "min"))
		hi := lo + time.Duration(rapid.Int64Range(0, int64(1000*time.Hour)).Draw(t, "extra"))
		policy := jetstream.Exponential(lo, hi)
		assert.Equal(t, lo, policy(1), "first retry")
		assert.Equal(t, lo, policy(rapid.IntRange(-5, 0).Draw(t, "below one")), "n below 1 counts as 1")
		prev := policy(1)
		for n := 2; n <= 80; n++ {
			d := policy(n)
			assert.Equal(t, min(2*prev, hi), d, "delay %d", n)
			assert.GreaterOrEqual(t, d, lo)
			assert.LessOrEqual(t, d, hi)
			prev = d
		}
	})
}

// TestTokenProperties: on a subject made of tokens, Token(i) is token i from the left, Token(-j)
// token j from the right, and "" out of range.
func TestTokenProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tokens := rapid.SliceOfN(rapid.StringMatching(`[a-z0-9*>_-]{1,6}`), 1, 8).Draw(t, "tokens")
		subject := strings.Join(tokens, ".")
		for i, tok := range tokens {
			assert.Equal(t, tok, jetstream.Token(subject, i), "Token(%q, %d)", subject, i)
			assert.Equal(t, tok, jetstream.Token(subject, i-len(tokens)), "Token(%q, %d)", subject, i-len(tokens))
		}
		assert.Equal(t, "", jetstream.Token(subject, len(tokens)), "past the right end")
		assert.Equal(t, "", jetstream.Token(subject, -len(tokens)-1), "past the left end")
	})
}

func TestToken(t *testing.T) {
	tests := []struct {
		give string
		i    int
		want string
	}{
		{"orders.eu.alice", 0, "orders"},
		{"orders.eu.alice", 2, "alice"},
		{"orders.eu.alice", -1, "alice"},
		{"orders.eu.alice", -3, "orders"},
		{"orders.eu.alice", 3, ""},
		{"orders.eu.alice", -4, ""},
		{"orders", -1, "orders"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, jetstream.Token(tt.give, tt.i), "Token(%q, %d)", tt.give, tt.i)
	}
}
