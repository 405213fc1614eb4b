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
	"strings"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// Service runs Gatehouse's commands against one database.
type Service struct {
	client  *ent.Client
	dialect string
	log     *slog.Logger
	cache   *cache
	usage   usageLog
	keys    keyIndex
	// maxChecks is the most questions one authorizeMany answers.
	maxChecks int
	// instance tags this server's notifications, so that it does not drop
	// its cache a second time when its own NOTIFY comes back.
	instance string
	seal     atomic.Pointer[auditSeal] // audit checkpoint keys (L4; auditcheckpoint.go)
}

// InvalidationChannel is the PostgreSQL channel on which every commit names
// the account it changed ("" for all), so that other servers drop their
// cached models (D6). A payload is "<server instance> <account id>".
const InvalidationChannel = "gatehouse_invalidate"

// Notified handles a payload heard on InvalidationChannel. The server that
// committed the change invalidated its cache right after the commit, so its
// own notification is ignored; a payload it cannot read drops every account.
func (s *Service) Notified(payload string) {
	from, accountID, ok := strings.Cut(payload, " ")
	switch {
	case !ok:
		s.Invalidate("")
	case from != s.instance:
		s.Invalidate(accountID)
	}
}

// SetCacheTTL bounds how long a cached account model is used without
// reloading it: the fallback that keeps a server from staying stale if it
// misses notifications (D6). Zero keeps models until a commit invalidates them.
func (s *Service) SetCacheTTL(ttl time.Duration) { s.cache.ttl = ttl }

// New returns a Service. dialect is ent's dialect name of the database
// (dialect.Postgres or dialect.SQLite).
func New(client *ent.Client, dbDialect string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{
		client: client, dialect: dbDialect, log: log, cache: newCache(),
		usage:     usageLog{seen: map[string]time.Time{}},
		instance:  rand.Text(),
		maxChecks: DefaultMaxChecks,
	}
}

// Client returns the ent client, for reads.
func (s *Service) Client() *ent.Client { return s.client }

// inTx runs fn in a transaction and commits it when fn succeeds. When
// accountID is set, the account row is locked first: changes of one account
// then serialize, which keeps invariants such as M3 (an active owner always
// exists) true under concurrent requests. SQLite transactions are opened
// IMMEDIATE (see graph/database) and serialize all writers already.
func (s *Service) inTx(ctx context.Context, accountID string, fn func(tx *ent.Tx) error) error {
	return s.runTx(ctx, accountID, true, fn)
}

// dryRun runs fn like inTx, then rolls everything back: what-if answers run
// the very code of the change they preview.
func (s *Service) dryRun(ctx context.Context, accountID string, fn func(tx *ent.Tx) error) error {
	return s.runTx(ctx, accountID, false, fn)
}

func (s *Service) runTx(ctx context.Context, accountID string, commit bool, fn func(tx *ent.Tx) error) error {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return apperr.Wrap(err, "iam.inTx: begin")
	}
	if accountID == "" && s.dialect == dialect.Postgres {
		// Platform events (catalog, operator keys) have a chain of their own.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7243)"); err != nil {
			_ = tx.Rollback()
			return apperr.Wrap(err, "iam.inTx: lock platform chain")
		}
	}
	if accountID != "" {
		q := tx.Account.Query().Where(account.ID(accountID))
		if s.dialect == dialect.Postgres {
			q = q.ForUpdate()
		}
		if _, err := q.Only(ctx); err != nil {
			_ = tx.Rollback()
			if ent.IsNotFound(err) {
				return apperr.NotFoundf("account", accountID)
			}
			return apperr.Wrap(err, "iam.inTx: lock account")
		}
	}
	if err := fn(tx); err != nil || !commit {
		_ = tx.Rollback()
		return classify(err)
	}
	if accountID != "" {
		if err := s.enforceSoD(ctx, tx, accountID); err != nil {
			_ = tx.Rollback()
			return classify(err)
		}
	}
	if s.dialect == dialect.Postgres {
		// Delivered to every listening server when, and only if, this commits.
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", InvalidationChannel, s.instance+" "+accountID); err != nil {
			_ = tx.Rollback()
			return apperr.Wrap(err, "iam.inTx: notify")
		}
	}
	if err := tx.Commit(); err != nil {
		return classify(fmt.Errorf("commit: %w", err))
	}
	s.Invalidate(accountID)
	forget(ctx, accountID)
	return nil
}

// Invalidate drops what this server caches about an account ("" for all);
// another server's notification calls it too.
func (s *Service) Invalidate(accountID string) { s.cache.invalidate(accountID) }

// classify keeps typed errors and turns storage errors into public ones: a
// unique-constraint race becomes CONFLICT, anything else INTERNAL.
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
	return apperr.Wrap(err, "iam")
}
