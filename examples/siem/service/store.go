package service

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite write modes (Config.SQLite). Both open the database in WAL mode with a busy timeout, so
// readers never wait for the writer; they differ in how writes reach it.
const (
	// Batch sends every insert (events and alerts) to one writer goroutine that commits
	// whatever has queued up, up to maxBatch writes, in one transaction on one connection
	// (group commit). The default: see the README for the measurement.
	Batch = "batch"
	// OneWriter sends every write through one connection, a commit per event: writes queue in
	// database/sql's pool instead of contending for SQLite's lock.
	OneWriter = "one-writer"
	// WALPool lets up to 8 connections write, each waiting on SQLite's busy timeout for the lock.
	WALPool = "wal-pool"
)

// ErrDuplicate is returned by the store when the account already has an event with the same ref.
var ErrDuplicate = errors.New("duplicate ref")

// store is the service's SQLite database: accounts, API keys, events, alerts. All SQL uses
// parameters.
type store struct {
	w, r *sql.DB // writer and reader pools (the same pool in WALPool mode)

	inserts  chan insertReq   // Batch mode: to the writer goroutine
	written  chan struct{}    // Batch mode: closed when the writer goroutine has ended
	onCommit func(writes int) // Batch mode: called after each commit with its size, if set

	mu       sync.Mutex
	accounts map[int64]cachedAccount
	ttl      time.Duration
}

type account struct {
	ID        int64
	Name, Org string
	MayReport bool
}

type cachedAccount struct {
	account
	at time.Time
}

// dsn builds this driver's DSN: WAL journal, a 5 s busy timeout, synchronous NORMAL (in WAL
// mode a commit survives a crash of the process; only a power loss can take the last commits).
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	return "file:" + path + "?" + q.Encode()
}

func openStore(ctx context.Context, path, mode string, onCommit func(writes int)) (*store, error) {
	w, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &store{w: w, r: w, accounts: map[int64]cachedAccount{}, ttl: time.Second, onCommit: onCommit}
	switch mode {
	case OneWriter, Batch, "":
		w.SetMaxOpenConns(1)
		if s.r, err = sql.Open("sqlite", dsn(path)); err != nil {
			w.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		s.r.SetMaxOpenConns(4)
	case WALPool:
		w.SetMaxOpenConns(8)
	default:
		w.Close()
		return nil, fmt.Errorf("unknown SQLite mode %q, want %q, %q or %q", mode, Batch, OneWriter, WALPool)
	}
	if err := s.migrate(ctx); err != nil {
		s.close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if mode == Batch || mode == "" {
		s.inserts, s.written = make(chan insertReq), make(chan struct{})
		go s.writeBatches()
	}
	return s, nil
}

// close closes the database. In Batch mode no insert may be in progress or come after.
func (s *store) close() error {
	if s.inserts != nil {
		close(s.inserts)
		<-s.written
	}
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

var migrations = []string{
	`CREATE TABLE accounts (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		org TEXT NOT NULL,
		may_report INTEGER NOT NULL DEFAULT 1,
		created_at TEXT NOT NULL
	);
	CREATE TABLE api_keys (
		id TEXT PRIMARY KEY,
		account_id INTEGER NOT NULL REFERENCES accounts(id),
		hash BLOB NOT NULL,
		created_at TEXT NOT NULL
	);
	CREATE TABLE events (
		uid TEXT PRIMARY KEY,
		account_id INTEGER NOT NULL REFERENCES accounts(id),
		ref TEXT,
		source TEXT NOT NULL,
		type TEXT NOT NULL,
		severity INTEGER NOT NULL,
		level TEXT NOT NULL,
		message TEXT NOT NULL,
		status TEXT NOT NULL,
		occurred_at TEXT NOT NULL,
		received_at TEXT NOT NULL,
		UNIQUE (account_id, ref)
	);
	CREATE TABLE alerts (
		id INTEGER PRIMARY KEY,
		event_uid TEXT NOT NULL,
		account_id INTEGER NOT NULL REFERENCES accounts(id),
		severity INTEGER NOT NULL,
		message TEXT NOT NULL,
		created_at TEXT NOT NULL
	);`,
	// An event is alerted once however often it is processed: a redelivered stream message
	// (Config.NATS) runs the alert stage again with the same uid.
	`CREATE UNIQUE INDEX alerts_event_uid ON alerts (event_uid);`,
	// The alerts table becomes an outbox: a row is written with its event, in the same
	// transaction, and the sender (outbox.go) delivers it. Times are Unix milliseconds. Alerts of
	// an older database were delivered before they were written: they are marked sent.
	`ALTER TABLE alerts ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE alerts ADD COLUMN next_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE alerts ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE alerts ADD COLUMN sent_at INTEGER;
	ALTER TABLE alerts ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
	UPDATE alerts SET sent_at = 0;
	CREATE INDEX alerts_pending ON alerts (next_at) WHERE sent_at IS NULL;
	CREATE INDEX events_account_level ON events (account_id, level);`,
	// Dashboard sessions (session.go): the SHA-256 of the token, never the token.
	`CREATE TABLE sessions (
		hash BLOB PRIMARY KEY,
		account_id INTEGER NOT NULL REFERENCES accounts(id),
		expires_at INTEGER NOT NULL
	);`,
}

// migrate brings the schema to the newest version, recorded in PRAGMA user_version, in one
// IMMEDIATE transaction: it takes SQLite's write lock before reading the version, so services
// starting at once on a fresh shared file migrate one after the other instead of both creating
// the tables.
func (s *store) migrate(ctx context.Context) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return err
	}
	if err := migrateFrom(ctx, conn); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return err
	}
	_, err = conn.ExecContext(ctx, `COMMIT`)
	return err
}

func migrateFrom(ctx context.Context, conn *sql.Conn) error {
	var version int
	if err := conn.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	for v := version; v < len(migrations); v++ {
		if _, err := conn.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("version %d: %w", v+1, err)
		}
	}
	// PRAGMA takes no parameters; the length is our own integer.
	_, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations)))
	return err
}

const timeFormat = time.RFC3339Nano

// createAccount adds an account and returns its id.
func (s *store) createAccount(ctx context.Context, name, org string, mayReport bool) (int64, error) {
	res, err := s.w.ExecContext(ctx,
		`INSERT INTO accounts (name, org, may_report, created_at) VALUES (?, ?, ?, ?)`,
		name, org, mayReport, time.Now().UTC().Format(timeFormat))
	if err != nil {
		return 0, fmt.Errorf("create account %q: %w", name, err)
	}
	return res.LastInsertId()
}

// accountByName returns the id of the named account, or 0 if there is none.
func (s *store) accountByName(ctx context.Context, name string) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT id FROM accounts WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// seedAccount adds the named account unless it exists and reports whether it added it: of
// services seeding a fresh shared database at once, one adds it.
func (s *store) seedAccount(ctx context.Context, name, org string) (int64, bool, error) {
	res, err := s.w.ExecContext(ctx,
		`INSERT INTO accounts (name, org, may_report, created_at) VALUES (?, ?, 1, ?) ON CONFLICT (name) DO NOTHING`,
		name, org, time.Now().UTC().Format(timeFormat))
	if err != nil {
		return 0, false, fmt.Errorf("seed account %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, false, err
	}
	id, err := res.LastInsertId()
	return id, err == nil, err
}

// setMayReport changes whether the account may report, at once for new requests and within the
// cache's TTL for the stages.
func (s *store) setMayReport(ctx context.Context, id int64, may bool) error {
	_, err := s.w.ExecContext(ctx, `UPDATE accounts SET may_report = ? WHERE id = ?`, may, id)
	s.mu.Lock()
	delete(s.accounts, id)
	s.mu.Unlock()
	return err
}

// account returns the account, from a cache younger than the store's TTL when it can.
func (s *store) account(ctx context.Context, id int64) (account, error) {
	s.mu.Lock()
	c, ok := s.accounts[id]
	s.mu.Unlock()
	if ok && time.Since(c.at) < s.ttl {
		return c.account, nil
	}
	a := account{ID: id}
	err := s.r.QueryRowContext(ctx, `SELECT name, org, may_report FROM accounts WHERE id = ?`, id).
		Scan(&a.Name, &a.Org, &a.MayReport)
	if err != nil {
		return account{}, fmt.Errorf("account %d: %w", id, err)
	}
	s.mu.Lock()
	s.accounts[id] = cachedAccount{account: a, at: time.Now()}
	s.mu.Unlock()
	return a, nil
}

// addKey stores the hash of a key's secret under its id.
func (s *store) addKey(ctx context.Context, k apiKey, accountID int64) error {
	_, err := s.w.ExecContext(ctx,
		`INSERT INTO api_keys (id, account_id, hash, created_at) VALUES (?, ?, ?, ?)`,
		k.id, accountID, k.hash(), time.Now().UTC().Format(timeFormat))
	return err
}

// keyHash returns the stored hash of the key id and its account, or sql.ErrNoRows.
func (s *store) keyHash(ctx context.Context, id string) (hash []byte, accountID int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT hash, account_id FROM api_keys WHERE id = ?`, id).
		Scan(&hash, &accountID)
	return hash, accountID, err
}

// insertEvent persists an event and, when alert is set, its alert (a row of the outbox, which the
// sender delivers), both or neither: in its own transaction or, in Batch mode, under its own
// savepoint in the writer's next batch; it returns once they are committed. ErrDuplicate if the
// account already has its ref under another uid; errStored if an event with its uid is already
// stored (a redelivery of a stream message, whose uid was given at intake), in which case
// nothing is written: the alert, if any, was written with the event.
func (s *store) insertEvent(ctx context.Context, e *Event, alert bool) error {
	return s.writeN(ctx, alert, func(ctx context.Context, db execer) error {
		if err := insertError(insertOne(ctx, db, e)); err != nil || !alert {
			return err
		}
		_, err := db.ExecContext(ctx,
			`INSERT INTO alerts (event_uid, account_id, severity, message, created_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (event_uid) DO NOTHING`,
			e.UID, e.AccountID, e.Severity, e.Message, e.ReceivedAt.UTC().Format(timeFormat))
		return err
	})
}

// errStored is insertEvent's answer for an event whose uid is already stored.
var errStored = errors.New("event already stored")

// write runs one write, all of it or nothing: in its own transaction on the writer pool, or, in
// Batch mode, under its own savepoint in the writer goroutine's next transaction, returning once
// that is committed.
func (s *store) write(ctx context.Context, fn func(context.Context, execer) error) error {
	return s.writeN(ctx, true, fn)
}

// writeN is write; multi says whether fn may run more than one statement: a single statement is
// atomic on its own and needs no savepoint in a batch (two statements fewer a write).
func (s *store) writeN(ctx context.Context, multi bool, fn func(context.Context, execer) error) error {
	if s.inserts == nil {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := fn(ctx, tx); err != nil {
			return errors.Join(err, tx.Rollback())
		}
		return tx.Commit()
	}
	req := insertReq{fn: fn, multi: multi, err: make(chan error, 1)}
	select {
	case s.inserts <- req:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return <-req.err // the writer always answers: the write may be committed, so wait for it
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const insertSQL = `INSERT INTO events (uid, account_id, ref, source, type, severity, level, message,
	status, occurred_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (uid) DO NOTHING`

func insertOne(ctx context.Context, db execer, e *Event) error {
	var ref any
	if e.Ref != "" {
		ref = e.Ref
	}
	res, err := db.ExecContext(ctx, insertSQL,
		e.UID, e.AccountID, ref, e.Source, e.Type, e.Severity, e.Level, e.Message, e.Status,
		e.OccurredAt.UTC().Format(timeFormat), e.ReceivedAt.UTC().Format(timeFormat))
	if err != nil {
		return err
	}
	// The conflict target is the uid only: SQLite checks it first, so a stored uid is a no-op
	// even when the ref matches too, and a ref used under another uid still fails UNIQUE.
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return cmp.Or(err, errStored)
	}
	return nil
}

type insertReq struct {
	fn    func(context.Context, execer) error
	multi bool       // fn may run several statements: it runs under a savepoint
	err   chan error // buffered: the writer never waits for the stage
}

// maxBatch is the most writes one Batch-mode transaction commits.
const maxBatch = 256

// writeBatches is the Batch-mode writer: it takes the first waiting write (an event or an
// alert), whatever else is already waiting (up to maxBatch), and commits them in one
// transaction, so the cost of a commit is shared by every write that arrived while the previous
// one ran. A constraint error fails its own statement only (SQLite's default ABORT keeps the
// transaction); an error of the transaction itself fails every write of the batch.
func (s *store) writeBatches() {
	defer close(s.written)
	batch := make([]insertReq, 0, maxBatch)
	for req := range s.inserts {
		batch = append(batch[:0], req)
	more:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.inserts:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.commit(batch)
	}
}

func (s *store) commit(batch []insertReq) {
	ctx := context.Background() // the batch is shared: no one request's context may cancel it
	errs := make([]error, len(batch))
	tx, err := s.w.BeginTx(ctx, nil)
	if err == nil {
		for i, r := range batch {
			if r.multi {
				errs[i] = savepoint(ctx, tx, r.fn)
			} else {
				errs[i] = r.fn(ctx, tx)
			}
		}
		err = tx.Commit()
	}
	if s.onCommit != nil {
		s.onCommit(len(batch))
	}
	for i, r := range batch {
		if err != nil {
			errs[i] = fmt.Errorf("commit: %w", err)
		}
		r.err <- errs[i]
	}
}

// savepoint runs fn under a savepoint of tx: a write whose second statement fails leaves nothing
// of its first in the batch.
func savepoint(ctx context.Context, tx *sql.Tx, fn func(context.Context, execer) error) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT w`); err != nil {
		return err
	}
	err := fn(ctx, tx)
	if err != nil {
		if _, e := tx.ExecContext(ctx, `ROLLBACK TO w`); e != nil {
			err = errors.Join(err, e)
		}
	}
	if _, e := tx.ExecContext(ctx, `RELEASE w`); e != nil {
		err = errors.Join(err, e)
	}
	return err
}

func insertError(err error) error {
	var serr *sqlite.Error
	if errors.As(err, &serr) && serr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return ErrDuplicate
	}
	return err
}

// latest returns the account's latest stored events, newest first.
func (s *store) latest(ctx context.Context, accountID int64, limit int) ([]View, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT e.uid, COALESCE(e.ref, ''), c.name, c.org, e.source, e.type,
		e.severity, e.level, e.message, e.status, e.occurred_at, e.received_at,
		EXISTS (SELECT 1 FROM alerts a WHERE a.event_uid = e.uid)
		FROM events e JOIN accounts c ON c.id = e.account_id
		WHERE e.account_id = ? ORDER BY e.rowid DESC LIMIT ?`, accountID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []View{}
	for rows.Next() {
		var v View
		var occurred, received string
		if err := rows.Scan(&v.UID, &v.Ref, &v.Account, &v.Org, &v.Source, &v.Type, &v.Severity,
			&v.Level, &v.Message, &v.Status, &occurred, &received, &v.Alerted); err != nil {
			return nil, err
		}
		v.OccurredAt, _ = time.Parse(timeFormat, occurred) // written by insertOne in this format
		v.ReceivedAt, _ = time.Parse(timeFormat, received)
		out = append(out, v)
	}
	return out, rows.Err()
}

// levelCounts counts the account's stored events by level; every level is in the map.
func (s *store) levelCounts(ctx context.Context, accountID int64) (map[string]int64, error) {
	out := map[string]int64{}
	for _, l := range Levels {
		out[l] = 0
	}
	rows, err := s.r.QueryContext(ctx, `SELECT level, COUNT(*) FROM events WHERE account_id = ? GROUP BY level`, accountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var l string
		var n int64
		if err := rows.Scan(&l, &n); err != nil {
			return nil, err
		}
		out[l] = n
	}
	return out, rows.Err()
}
