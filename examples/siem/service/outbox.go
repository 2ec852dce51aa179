package service

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// The outbox. The persist stage writes an alerting event's alert in the same transaction as the
// event (store.insertEvent), so an event is stored with its alert or not at all, and a retry of
// a stored ref, rejected, writes none. The sender delivers the pending alerts, oldest first,
// through the Notifier, each with its own timeout; a failed delivery is logged, counted and
// tried again after a backoff that doubles up to a maximum, for as long as it takes: a mail
// outage delays the mail, never an event.
//
// Several instances may share the database (JetStream mode): a sender claims an alert for a
// lease (lease_until) before it delivers it, with an UPDATE that only one of them wins, so two
// instances never deliver one alert at once. An instance that dies holding a lease leaves the
// alert to be taken again when the lease ends. Delivery is at least once: an instance stopped
// between the server's acceptance of a mail and the row's update mails that alert again.

// sender delivers the outbox's pending alerts. Run it with run; wake tells it that an alert was
// written.
type sender struct {
	store    *store
	notifier Notifier // nil: logging the alert is its delivery
	log      *slog.Logger
	now      func() time.Time
	first    time.Duration // delay before the second attempt; doubles each attempt
	max      time.Duration // longest delay between two attempts
	timeout  time.Duration // longest one delivery may take
	wakeup   chan struct{} // capacity 1: a wake-up is never lost, never blocks

	sent, failed atomic.Int64
}

// pollEvery bounds how long the sender sleeps: it then also takes alerts other instances wrote,
// or left behind when they stopped.
const pollEvery = 5 * time.Second

// wake tells the sender an alert is waiting; it never blocks.
func (s *sender) wake() {
	select {
	case s.wakeup <- struct{}{}:
	default:
	}
}

// run delivers due alerts until ctx ends.
func (s *sender) run(ctx context.Context) {
	for {
		wait := s.round(ctx)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wakeup:
		case <-t.C:
		}
		t.Stop()
	}
}

// round delivers every alert that is due, oldest first, and returns how long to sleep before
// the next one is.
func (s *sender) round(ctx context.Context) time.Duration {
	for ctx.Err() == nil {
		due, err := s.store.dueAlerts(ctx, s.now(), 32)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("outbox: read pending alerts", "err", err)
			}
			return pollEvery
		}
		for _, a := range due {
			if ctx.Err() != nil {
				break
			}
			s.deliver(ctx, a)
		}
		if len(due) < 32 {
			break
		}
	}
	next, ok, err := s.store.nextDue(ctx)
	if err != nil || !ok {
		return pollEvery
	}
	// At least 10 ms: an alert due at once but not claimable (the database busy) is not spun on.
	return min(max(time.Until(next), 10*time.Millisecond), pollEvery)
}

// deliver claims the alert and delivers it: marked sent, or failed with its next attempt.
func (s *sender) deliver(ctx context.Context, a Alert) {
	now := s.now()
	won, err := s.store.claimAlert(ctx, a.ID, now, now.Add(2*s.timeout))
	if err != nil || !won { // another instance has it, or the database is busy: next round
		return
	}
	a.Attempt++
	dctx, cancel := context.WithTimeout(ctx, s.timeout)
	err = safeNotify(dctx, s.notifier, a)
	cancel()
	bg, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer stop()
	switch {
	case err == nil:
		s.sent.Add(1)
		s.log.Warn("alert", "event", a.EventUID, "account", a.Account, "severity", a.Severity,
			"type", a.Type, "message", a.Message, "attempt", a.Attempt)
		err = s.store.alertSent(bg, a.ID, s.now())
	case ctx.Err() != nil: // stopping: the alert waits for the next start, or another instance
		err = s.store.releaseAlert(bg, a.ID)
	default:
		s.failed.Add(1)
		delay := s.backoff(a.Attempt)
		s.log.Error("alert delivery failed", "event", a.EventUID, "attempt", a.Attempt,
			"retry_in", delay, "err", err)
		err = s.store.alertFailed(bg, a.ID, s.now().Add(delay), err.Error())
	}
	if err != nil {
		s.log.Error("outbox: update alert", "alert", a.ID, "err", err)
	}
}

// backoff is the delay after the attempt-th failed attempt: first, doubling, at most max.
func (s *sender) backoff(attempt int) time.Duration {
	d := s.first
	for range attempt - 1 {
		if d >= s.max/2 {
			return s.max
		}
		d *= 2
	}
	return min(d, s.max)
}

// safeNotify calls the notifier; a panic in it is that delivery's error.
func safeNotify(ctx context.Context, n Notifier, a Alert) (err error) {
	if n == nil {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("notifier panicked: %v", v)
		}
	}()
	return n.Notify(ctx, a)
}

// dueAlerts returns up to limit alerts not sent, due at now and not leased, oldest first, with
// what the mail says about their event.
func (s *store) dueAlerts(ctx context.Context, now time.Time, limit int) ([]Alert, error) {
	ms := now.UnixMilli()
	rows, err := s.r.QueryContext(ctx, `SELECT a.id, a.attempts, e.uid, e.account_id, c.name,
		e.severity, e.level, e.type, e.message, e.received_at
		FROM alerts a JOIN events e ON e.uid = a.event_uid JOIN accounts c ON c.id = e.account_id
		WHERE a.sent_at IS NULL AND a.next_at <= ? AND a.lease_until <= ?
		ORDER BY a.id LIMIT ?`, ms, ms, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var at string
		if err := rows.Scan(&a.ID, &a.Attempt, &a.EventUID, &a.AccountID, &a.Account, &a.Severity,
			&a.Level, &a.Type, &a.Message, &at); err != nil {
			return nil, err
		}
		a.At, _ = time.Parse(timeFormat, at) // written by insertOne in this format
		out = append(out, a)
	}
	return out, rows.Err()
}

// nextDue returns when the earliest pending alert is due (its next attempt or the end of its
// lease), and false if none is pending.
func (s *store) nextDue(ctx context.Context) (time.Time, bool, error) {
	var ms sql.NullInt64
	err := s.r.QueryRowContext(ctx,
		`SELECT MIN(MAX(next_at, lease_until)) FROM alerts WHERE sent_at IS NULL`).Scan(&ms)
	if err != nil || !ms.Valid {
		return time.Time{}, false, err
	}
	return time.UnixMilli(ms.Int64), true, nil
}

// pendingAlerts counts the alerts not sent yet.
func (s *store) pendingAlerts(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE sent_at IS NULL`).Scan(&n)
	return n, err
}

// claimAlert leases the alert until until, if it is still pending and nobody holds it: it
// reports whether this caller won it.
func (s *store) claimAlert(ctx context.Context, id int64, now, until time.Time) (bool, error) {
	won := false
	err := s.writeN(ctx, false, func(ctx context.Context, db execer) error {
		res, err := db.ExecContext(ctx, `UPDATE alerts SET lease_until = ?, attempts = attempts + 1
			WHERE id = ? AND sent_at IS NULL AND lease_until <= ?`, until.UnixMilli(), id, now.UnixMilli())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		won = n == 1
		return err
	})
	return won, err
}

func (s *store) alertSent(ctx context.Context, id int64, at time.Time) error {
	return s.exec(ctx, `UPDATE alerts SET sent_at = ?, lease_until = 0, last_error = '' WHERE id = ?`, at.UnixMilli(), id)
}

func (s *store) alertFailed(ctx context.Context, id int64, next time.Time, reason string) error {
	return s.exec(ctx, `UPDATE alerts SET next_at = ?, lease_until = 0, last_error = ? WHERE id = ?`, next.UnixMilli(), reason, id)
}

// releaseAlert gives back a claimed alert, not delivered, without counting the attempt.
func (s *store) releaseAlert(ctx context.Context, id int64) error {
	return s.exec(ctx, `UPDATE alerts SET lease_until = 0, attempts = attempts - 1 WHERE id = ?`, id)
}

// exec runs one statement through write.
func (s *store) exec(ctx context.Context, query string, args ...any) error {
	return s.writeN(ctx, false, func(ctx context.Context, db execer) error {
		_, err := db.ExecContext(ctx, query, args...)
		return err
	})
}
