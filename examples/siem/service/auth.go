package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// An API key reads "siem_<id>_<secret>": the id (8 random bytes, hex) finds the key's row, the
// secret (32 random bytes, hex) is checked against the SHA-256 stored there, in constant time.
// Only the hash is stored: a random 256-bit secret needs no slow password hash.
type apiKey struct {
	id, secret string
}

const keyPrefix = "siem_"

func newKey() apiKey {
	id, secret := make([]byte, 8), make([]byte, 32)
	rand.Read(id) // crypto/rand.Read never returns an error
	rand.Read(secret)
	return apiKey{id: hex.EncodeToString(id), secret: hex.EncodeToString(secret)}
}

func (k apiKey) String() string { return keyPrefix + k.id + "_" + k.secret }

func (k apiKey) hash() []byte {
	h := sha256.Sum256([]byte(k.secret))
	return h[:]
}

func parseKey(s string) (apiKey, bool) {
	rest, ok := strings.CutPrefix(s, keyPrefix)
	if !ok {
		return apiKey{}, false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 64 {
		return apiKey{}, false
	}
	return apiKey{id: id, secret: secret}, true
}

// Authentication errors: errUnauthorized becomes 401, errForbidden 403.
var (
	errUnauthorized = errors.New("missing or invalid API key")
	errForbidden    = errors.New("this account may not report events")
)

// bearer returns the token of an Authorization header value of the Bearer scheme, whose name
// is case-insensitive (RFC 9110, section 11.1).
func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return token, true
}

// authenticate returns the account of the bearer key in an Authorization header value, if that
// account may report.
func (s *store) authenticate(ctx context.Context, header string) (account, error) {
	a, err := s.keyAccount(ctx, header)
	if err == nil && !a.MayReport {
		return account{}, errForbidden
	}
	return a, err
}

// keyAccount returns the account of the bearer key in an Authorization header value.
func (s *store) keyAccount(ctx context.Context, header string) (account, error) {
	token, ok := bearer(header)
	if !ok {
		return account{}, errUnauthorized
	}
	k, ok := parseKey(strings.TrimSpace(token))
	if !ok {
		return account{}, errUnauthorized
	}
	stored, accountID, err := s.keyHash(ctx, k.id)
	if errors.Is(err, sql.ErrNoRows) {
		return account{}, errUnauthorized
	}
	if err != nil {
		return account{}, fmt.Errorf("look up key: %w", err)
	}
	if subtle.ConstantTimeCompare(stored, k.hash()) != 1 {
		return account{}, errUnauthorized
	}
	return s.account(ctx, accountID)
}
