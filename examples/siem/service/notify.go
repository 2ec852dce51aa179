package service

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
	"unicode/utf8"
)

// Alert is an alert of the outbox as the sender hands it to the Notifier: one for each stored
// event at or above the threshold.
type Alert struct {
	ID        int64 // the alert's row
	Attempt   int   // 1 on the first delivery, 2 on the first retry, ...
	EventUID  string
	AccountID int64
	Account   string
	Severity  int
	Level     string
	Type      string
	Message   string
	At        time.Time // when the event was received
}

// A Notifier delivers alerts. The outbox's sender calls Notify for one alert at a time, oldest
// first, under a context that ends at Config.AlertTimeout or when the service stops; an error
// leaves the alert pending, to be tried again after a backoff (Config.AlertRetry). Delivery is at
// least once: Notify may see an alert again (Alert.Attempt tells) if the service stopped before
// it could record the delivery.
type Notifier interface {
	Notify(ctx context.Context, a Alert) error
}

// SMTPNotifier mails each alert through an SMTP server: plain SMTP with optional auth, upgraded
// with STARTTLS when the server offers it (net/smtp refuses auth without TLS except to
// localhost). Every step has a deadline: the dial, and the whole exchange, bounded by Timeout
// and by the context. The headers are the service's own: the subject is encoded (RFC 2047), the
// addresses are formatted by net/mail, and the event's fields go into the subject and a
// quoted-printable body, never into a header of their own.
type SMTPNotifier struct {
	Addr    string        // host:port
	From    string        // envelope and header sender, an RFC 5322 address
	To      []string      // recipients, RFC 5322 addresses
	Auth    smtp.Auth     // nil for none
	Timeout time.Duration // the longest a mail may take, dial included (default 30 s)
}

// check parses the addresses, so that a bad one is refused at start, not at the first alert.
func (n SMTPNotifier) check() error {
	if _, _, err := net.SplitHostPort(n.Addr); err != nil {
		return fmt.Errorf("SMTP address %q: %w", n.Addr, err)
	}
	if _, err := mail.ParseAddress(n.From); err != nil {
		return fmt.Errorf("SMTP sender %q: %w", n.From, err)
	}
	if len(n.To) == 0 {
		return errors.New("SMTP: no recipient")
	}
	for _, to := range n.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fmt.Errorf("SMTP recipient %q: %w", to, err)
		}
	}
	return nil
}

// Notify sends one mail for the alert.
func (n SMTPNotifier) Notify(ctx context.Context, a Alert) error {
	if err := n.send(ctx, a); err != nil {
		return fmt.Errorf("mail alert to %s: %w", n.Addr, err)
	}
	return nil
}

func (n SMTPNotifier) send(ctx context.Context, a Alert) error {
	from, to, msg, err := n.message(a, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(n.Timeout, 30*time.Second))
	defer cancel()
	d := net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", n.Addr)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	// The deadline bounds every read and write; the context's end (the service stopping) closes
	// the connection at once.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	host, _, _ := net.SplitHostPort(n.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return cmp.Or(ctx.Err(), err)
	}
	defer c.Close()
	if err := n.exchange(c, host, from, to, msg); err != nil {
		return cmp.Or(ctx.Err(), err)
	}
	return nil
}

func (n SMTPNotifier) exchange(c *smtp.Client, host, from string, to []string, msg []byte) error {
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if n.Auth != nil {
		if err := c.Auth(n.Auth); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	c.Quit() // the server has taken the mail: a failed goodbye changes nothing
	return nil
}

// message renders the mail: the envelope's addresses and the message with its headers.
func (n SMTPNotifier) message(a Alert, now time.Time) (string, []string, []byte, error) {
	from, err := mail.ParseAddress(n.From)
	if err != nil {
		return "", nil, nil, fmt.Errorf("sender: %w", err)
	}
	var to []string
	var toHeader []string
	for _, s := range n.To {
		addr, err := mail.ParseAddress(s)
		if err != nil {
			return "", nil, nil, fmt.Errorf("recipient: %w", err)
		}
		to = append(to, addr.Address)
		toHeader = append(toHeader, addr.String())
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", strings.Join(toHeader, ", "))
	header("Subject", encodeSubject(fmt.Sprintf("[SIEM %s] %s from %s", a.Level, a.Type, a.Account)))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<alert-"+a.EventUID+"@siem.invalid>") // the same on every attempt
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	fmt.Fprintf(qp, "Event %s, severity %d (%s), account %s, at %s:\r\n\r\n%s\r\n", a.EventUID,
		a.Severity, a.Level, a.Account, a.At.UTC().Format(time.RFC3339), a.Message)
	if err := qp.Close(); err != nil {
		return "", nil, nil, err
	}
	return from.Address, to, b.Bytes(), nil
}

// encodeSubject RFC 2047-encodes s for the Subject header. mime's encoders leave printable ASCII
// as it is, "=?utf-8?q?...?=" included, which a mail reader then decodes as an encoded word: a
// field could bring into the subject any character the input checks refuse (a CR LF, a
// right-to-left override). So a text that holds "=?" is encoded whole, as base64 words. They
// also leave a tab as it is, which a header may hold but which folding and some readers turn
// into other white space: a text with a tab is encoded whole too, so the header is printable
// ASCII and decodes to exactly the text.
func encodeSubject(s string) string {
	if !strings.Contains(s, "=?") && !strings.Contains(s, "\t") {
		return mime.QEncoding.Encode("utf-8", s)
	}
	var words []string
	for len(s) > 0 {
		n := min(len(s), 45) // 60 base64 characters: a word of 72, under RFC 2047's 75
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n-- // a word holds whole characters
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}

// Notifiers sends each alert to every notifier in turn, stopping at the first error (the alert
// is then tried again, from the first notifier).
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
