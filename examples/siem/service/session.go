package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Who may watch. GET /ws, GET /api/stats and GET /api/events serve one account, the one whose
// API key the request carries: in its Authorization header (any client), or through a session
// (the dashboard, since a browser cannot set a header on a websocket). POST /api/session takes
// the key, from the header or a form field "key", and sets the cookie SessionCookie: a random
// token of which only the SHA-256 is stored, with the account and an expiry (SessionTTL);
// HttpOnly and SameSite=Strict, so that no script reads it and no other site's page sends it.
// DELETE /api/session ends it. A websocket connection receives its own account's events only.

// SessionCookie is the name of the dashboard's session cookie.
const SessionCookie = "siem_session"

// SessionTTL is how long a session lasts.
const SessionTTL = 12 * time.Hour

// viewer returns the account a read request is for: its bearer key's, or its session's. Any
// account may watch its own events, including one that may not report.
func (s *Service) viewer(r *http.Request) (account, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return s.store.keyAccount(r.Context(), h)
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return account{}, errUnauthorized
	}
	return s.store.session(r.Context(), c.Value, s.cfg.Now())
}

// handleSession is POST /api/session: the key, in the Authorization header or the form field
// "key", opens a session whose cookie is set in the answer (204).
func (s *Service) handleSession(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		h = "Bearer " + r.PostFormValue("key")
	}
	a, err := s.store.keyAccount(r.Context(), h)
	if s.authError(w, err) {
		return
	}
	token, err := s.store.newSession(r.Context(), a.ID, s.cfg.Now().Add(SessionTTL))
	if err != nil {
		s.cfg.Logger.Error("open session", "err", err)
		http.Error(w, "cannot open a session now", http.StatusServiceUnavailable)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", MaxAge: int(SessionTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// handleEndSession is DELETE /api/session: the session ends and its cookie is cleared.
func (s *Service) handleEndSession(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		if err := s.store.endSession(r.Context(), c.Value); err != nil {
			s.cfg.Logger.Error("end session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

// sameOrigin reports whether a request that changes state comes from a page of this service
// (or from no page at all: a client that sends no Origin).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

// authError answers an authentication error and reports whether there was one.
func (s *Service) authError(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, errUnauthorized):
		w.Header().Set("WWW-Authenticate", `Bearer realm="siem"`)
		http.Error(w, err.Error(), http.StatusUnauthorized)
	case errors.Is(err, errForbidden):
		http.Error(w, err.Error(), http.StatusForbidden)
	default:
		s.cfg.Logger.Error("authenticate", "err", err)
		http.Error(w, "cannot check the API key now", http.StatusServiceUnavailable)
	}
	return true
}

func sessionHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// newSession stores a session of the account until expires and returns its token.
func (s *store) newSession(ctx context.Context, accountID int64, expires time.Time) (string, error) {
	b := make([]byte, 32)
	rand.Read(b) // crypto/rand.Read never returns an error
	token := hex.EncodeToString(b)
	err := s.write(ctx, func(ctx context.Context, db execer) error {
		// Expired sessions go as new ones come: the table holds the sessions of the last TTL.
		if _, err := db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, time.Now().UnixMilli()); err != nil {
			return err
		}
		_, err := db.ExecContext(ctx, `INSERT INTO sessions (hash, account_id, expires_at) VALUES (?, ?, ?)`,
			sessionHash(token), accountID, expires.UnixMilli())
		return err
	})
	return token, err
}

// session returns the account of a session token not expired at now.
func (s *store) session(ctx context.Context, token string, now time.Time) (account, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT account_id FROM sessions WHERE hash = ? AND expires_at > ?`,
		sessionHash(token), now.UnixMilli()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return account{}, errUnauthorized
	}
	if err != nil {
		return account{}, fmt.Errorf("look up session: %w", err)
	}
	return s.account(ctx, id)
}

func (s *store) endSession(ctx context.Context, token string) error {
	return s.exec(ctx, `DELETE FROM sessions WHERE hash = ?`, sessionHash(token))
}
