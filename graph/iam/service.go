// Package iam holds Gatehouse's commands: the rules of accounts, roles and
// members (SPEC §2–5). It knows nothing of HTTP or GraphQL. Every change runs
// in one transaction together with its audit event (L1).
package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/live"
)

// Service runs Gatehouse's commands against one database.
type Service struct {
	client  *ent.Client
	dialect string
	log     *slog.Logger
	cache   *cache
	usage   usageLog
	keys    keyIndex
	writers writerQueue
	opKeys  operatorKeys
	// maxChecks is the most questions one authorizeMany answers.
	maxChecks int
	// lockWait bounds how long a change waits for its account (P5).
	lockWait time.Duration
	// stepTimeout bounds each step of a subscription (Options.StepTimeout).
	stepTimeout time.Duration
	catalog     atomic.Pointer[sharedCatalog]
	seal        atomic.Pointer[auditSeal] // audit checkpoint keys (L4; auditcheckpoint.go)
	live        *live.Broker              // subscribers of accounts' changes (L5; watch.go)
	obs         Observer
	// instance names this server in its change notifications (a random
	// id per process); notes sends them (notify.go).
	instance string
	notes    notifier
}

// InvalidationChannel is the PostgreSQL channel on which every commit names
// the account it changed: the fast path that wakes other servers' change
// feeds (D6). Its payload is only a hint; the feed reads what changed.
const InvalidationChannel = "gatehouse_invalidate"

// Options tune a Service; zero values keep the defaults.
type Options struct {
	// MaxChecks is the most questions one authorizeMany answers (D5).
	MaxChecks int
	// CacheBytes bounds the memory cached models take (least recently used
	// go first).
	CacheBytes int64
	// LockWait bounds how long a change waits for its account, behind other
	// changes of the same account, before it is refused as ACCOUNT_BUSY.
	LockWait time.Duration
	// Observer is told of cache events, decisions and committed audit
	// events (metrics, access logs); nil observes nothing.
	Observer Observer
	// StepTimeout bounds each step of a subscription (its setup, each
	// wake-up's read and check of the caller): the request deadline, which a
	// subscription as a whole has not. Zero: none.
	StepTimeout time.Duration
}

// New returns a Service. dialect is ent's dialect name of the database
// (dialect.Postgres or dialect.SQLite).
func New(client *ent.Client, dbDialect string, log *slog.Logger, opts ...Options) *Service {
	if log == nil {
		log = slog.Default()
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.MaxChecks <= 0 {
		o.MaxChecks = DefaultMaxChecks
	}
	if o.LockWait <= 0 {
		o.LockWait = 2 * time.Second
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	c := newCache(o.CacheBytes)
	c.obs = o.Observer
	return &Service{
		client: client, dialect: dbDialect, log: log, cache: c,
		usage: newUsageLog(usageMax), keys: newKeyIndex(keyIndexSize),
		maxChecks: o.MaxChecks, lockWait: o.LockWait, stepTimeout: o.StepTimeout, obs: o.Observer, instance: rand.Text()[:16],
		notes: notifier{wake: make(chan struct{}, 1)},
	}
}

// Client returns the ent client, for reads.
func (s *Service) Client() *ent.Client { return s.client }

// inTx runs fn in a transaction and commits it when fn succeeds. It is the
// write gate's own step (change), and used directly only by changes no
// caller's permission decides: the platform's (catalog, operator keys,
// account creation; accountID "") and a user's first sign-in.
func (s *Service) inTx(ctx context.Context, accountID string, fn func(tx *ent.Tx) error) error {
	return s.runTx(ctx, accountID, true, func(tx *ent.Tx) (*Model, error) { return nil, fn(tx) })
}

// runTx runs fn in a transaction, then commits it or, unless commit, rolls
// it back. With an accountID, changes of that account are serialized: they
// queue here first, one at a time per account and holding no connection,
// then lock the account's row, each wait bounded by lockWait — a change
// that cannot have its account in time is ACCOUNT_BUSY, and an account held
// by a stuck transaction never takes other accounts' connections (P5). The
// lock keeps invariants such as M3 true under concurrent requests, and
// makes the model read inside the transaction exact (see gate). On
// PostgreSQL a change also holds the platform lock shared, so the catalog
// cannot change under it; platform changes take it alone. (SQLite opens
// transactions IMMEDIATE, which serializes all writers already.)
//
// fn returns the model its change leaves the account with, when it knows it
// (see Change.Alters): it replaces the account's cached model at commit;
// otherwise the commit drops it.
func (s *Service) runTx(ctx context.Context, accountID string, commit bool, fn func(tx *ent.Tx) (*Model, error)) error {
	lockCtx, cancel := context.WithTimeout(ctx, s.lockWait)
	defer cancel()
	if accountID != "" {
		release, err := s.writers.wait(lockCtx, accountID)
		if err != nil {
			return err
		}
		defer release()
	}
	tx, err := s.begin(ctx, lockCtx)
	if err != nil {
		return err
	}
	defer txHeads.Delete(tx)
	defer platformChanged.Delete(tx)
	if err := s.lock(lockCtx, tx, accountID); err != nil {
		_ = tx.Rollback()
		return err
	}
	next, err := fn(tx)
	if err != nil || !commit {
		_ = tx.Rollback()
		return classify(err)
	}
	if accountID != "" {
		if err := s.enforceSoD(ctx, tx, accountID, next); err != nil {
			_ = tx.Rollback()
			return classify(err)
		}
	}
	global := s.cache.globalGen()
	if accountID != "" {
		defer s.cache.commit(accountID)() // after the model's replacement below
	}
	if err := tx.Commit(); err != nil {
		return classify(fmt.Errorf("commit: %w", err))
	}
	if s.dialect == dialect.Postgres {
		s.notes.post(s.notificationPayload(accountID, time.Now())) // sent by SendNotifications
	}
	platformSeq, platform := platformChanged.Load(tx)
	switch {
	case platform:
		s.Invalidate("")
		// Everything is dropped already: the feed's report of this commit
		// is not news (else it would empty the operator keys again).
		s.cache.heardPlatform(platformSeq.(int64))
	case next != nil:
		s.obs.ModelsInvalidated(Local, s.cache.replace(accountID, next, global))
	case accountID != "":
		s.Invalidate(accountID)
	}
	forget(ctx, accountID)
	s.changed(accountID)
	return nil
}

// begin starts a transaction. SQLite's transactions take the database's
// write lock as they begin, in short attempts (database.SQLiteLockAttempt):
// they are repeated until lockCtx ends.
func (s *Service) begin(ctx, lockCtx context.Context) (*ent.Tx, error) {
	// The observer rides in the transaction's context to its commit hooks.
	ctx = context.WithValue(ctx, observerKey{}, s.obs)
	for {
		tx, err := s.client.Tx(ctx)
		if err == nil {
			return tx, nil
		}
		if database.Classify(err) != database.Busy {
			return nil, classify(err)
		}
		select {
		case <-lockCtx.Done():
			return nil, apperr.Busy(err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// platformLock is the advisory lock of the platform's chain and catalog.
const platformLock = 7243

// lock takes a transaction's locks: the account's row, or the platform's.
// Waiting too long is ACCOUNT_BUSY.
func (s *Service) lock(ctx context.Context, tx *ent.Tx, accountID string) error {
	if s.dialect != dialect.Postgres {
		// The IMMEDIATE transaction holds the database's write lock; a
		// missing account shows when its model is read.
		return nil
	}
	if accountID == "" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", platformLock); err != nil {
			return busy(ctx, err)
		}
		return nil
	}
	// Both locks and the chain heads in one round trip: the platform's lock
	// shared, the account's row, then the heads (migration lock_account).
	rows, err := tx.QueryContext(ctx, "SELECT chain, seq, hash FROM gatehouse_lock_account($1, $2)", platformLock, accountID)
	var h chainHeads
	if err == nil {
		h, err = scanHeads(rows)
	}
	switch {
	case database.NoData(err):
		return apperr.NotFoundf("account", accountID)
	case err != nil:
		return busy(ctx, err)
	}
	holdHeads(tx, accountID, h)
	return nil
}

// busy classifies an error met while waiting for a lock: the wait's own
// deadline or a lock timeout is ACCOUNT_BUSY.
func busy(ctx context.Context, err error) error {
	if ctx.Err() != nil || database.Classify(err) == database.Busy {
		return apperr.Busy(err)
	}
	return classify(err)
}

// Invalidate drops what this server caches about an account ("" for all);
// another server's notification calls it too.
func (s *Service) Invalidate(accountID string) {
	s.obs.ModelsInvalidated(Local, s.cache.invalidate(accountID))
	if accountID == "" {
		s.opKeys.clear()
	}
}

// classify keeps typed errors and turns storage errors into public ones: a
// unique-constraint race becomes CONFLICT, a lock not granted in time
// ACCOUNT_BUSY, an outage UNAVAILABLE, anything else INTERNAL.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return err
	}
	if ent.IsConstraintError(err) {
		return &apperr.Error{Code: apperr.Conflict, Message: "the change conflicts with another object (it may already exist)", Cause: err}
	}
	if ent.IsNotFound(err) {
		return &apperr.Error{Code: apperr.NotFound, Message: "not found", Cause: err}
	}
	switch database.Classify(err) {
	case database.Busy:
		return apperr.Busy(err)
	case database.Unavailable:
		return apperr.Outage(err)
	}
	return apperr.Wrap(err, "iam")
}
