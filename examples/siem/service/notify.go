package service

import (
	"context"
	"fmt"
	"log/slog"
	"net/smtp"
	"strings"
	"time"
)

// Alert is what the alert stage hands to the Notifier for an event at or above the threshold.
type Alert struct {
	EventUID  string
	AccountID int64
	Account   string
	Severity  int
	Level     string
	Type      string
	Message   string
	At        time.Time
}

// A Notifier delivers alerts. Notify is called from the service's workers, concurrently; an
// error fails the event (it is reported failed and not persisted; in JetStream mode it is
// delivered again later, so Notify may see the same event more than once).
type Notifier interface {
	Notify(ctx context.Context, a Alert) error
}

// StoreNotifier is the default Notifier: it writes the alert to the alerts table and logs it.
type StoreNotifier struct {
	store *store
	log   *slog.Logger
}

// Notify records and logs the alert.
func (n StoreNotifier) Notify(ctx context.Context, a Alert) error {
	if err := n.store.insertAlert(ctx, a); err != nil {
		return fmt.Errorf("record alert: %w", err)
	}
	n.log.Warn("alert", "event", a.EventUID, "account", a.Account, "severity", a.Severity,
		"type", a.Type, "message", a.Message)
	return nil
}

// SMTPNotifier mails each alert through an SMTP server (plain SMTP with optional PLAIN auth,
// upgraded with STARTTLS when the server offers it; net/smtp refuses auth without TLS except to
// localhost).
type SMTPNotifier struct {
	Addr string    // host:port
	From string    // envelope and header sender
	To   []string  // recipients
	Auth smtp.Auth // nil for none
}

// Notify sends one mail for the alert.
func (n SMTPNotifier) Notify(ctx context.Context, a Alert) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	subject := fmt.Sprintf("[SIEM %s] %s from %s", a.Level, a.Type, a.Account)
	body := fmt.Sprintf("Event %s, severity %d, at %s:\r\n\r\n%s\r\n", a.EventUID, a.Severity,
		a.At.UTC().Format(time.RFC3339), a.Message)
	msg := "From: " + n.From + "\r\nTo: " + strings.Join(n.To, ", ") + "\r\nSubject: " +
		subject + "\r\n\r\n" + body
	if err := smtp.SendMail(n.Addr, n.Auth, n.From, n.To, []byte(msg)); err != nil {
		return fmt.Errorf("mail alert to %s: %w", n.Addr, err)
	}
	return nil
}

// Notifiers sends each alert to every notifier in turn, stopping at the first error.
type Notifiers []Notifier

// Notify calls each notifier.
func (ns Notifiers) Notify(ctx context.Context, a Alert) error {
	for _, n := range ns {
		if err := n.Notify(ctx, a); err != nil {
			return err
		}
	}
	return nil
}
