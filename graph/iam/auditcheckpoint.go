package iam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditcheckpoint"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/audit"
)

// auditSeal is what a server signs and verifies audit checkpoints with (L4).
type auditSeal struct {
	signer *audit.Signer // nil: this server signs no checkpoints
	keys   *audit.Keys   // nil: verifyAuditChain checks the hash chain only
}

// SetAuditKeys configures signed checkpoints: signer signs them (nil signs
// none) and keys verify them (nil checks none).
func (s *Service) SetAuditKeys(signer *audit.Signer, keys *audit.Keys) {
	if keys != nil && keys.Len() == 0 {
		keys = nil
	}
	s.seal.Store(&auditSeal{signer: signer, keys: keys})
}

// auditSeal returns the configured keys (none until SetAuditKeys).
func (s *Service) auditSeal() auditSeal {
	if k := s.seal.Load(); k != nil {
		return *k
	}
	return auditSeal{}
}

// signedBound is the last position an account's checkpoints reach now.
// Verifiers and exports take only the checkpoints up to it: the events these
// cover were committed before it was read, so any missing one was removed —
// while a checkpoint signed during a long read may cover events appended
// after that read, which are not missing.
func (s *Service) signedBound(ctx context.Context, accountID string) (int64, error) {
	last, err := s.client.AuditCheckpoint.Query().Where(auditcheckpoint.AccountID(accountID)).
		Order(ent.Desc(auditcheckpoint.FieldToSeq)).Select(auditcheckpoint.FieldToSeq).First(ctx)
	switch {
	case ent.IsNotFound(err):
		return 0, nil
	case err != nil:
		return 0, classify(err) // an outage is UNAVAILABLE
	}
	return last.ToSeq, nil
}

// maxCheckpoint bounds the events one checkpoint covers, so that signing a
// long unsigned history writes rows of bounded size.
const maxCheckpoint = 10000

// SignAuditCheckpoints signs, for every chain (each account's, and the
// platform's) whose head moved since its last checkpoint, a checkpoint of
// the new events, and returns how many it stored. A chain that does not
// verify from its last checkpoint is not signed: signing it would vouch for
// the tampering. Every server may run this; two signing the same head store
// it once, and overlapping checkpoints are each verified on their own.
func (s *Service) SignAuditCheckpoints(ctx context.Context) (int, error) {
	signer := s.auditSeal().signer
	if signer == nil {
		return 0, nil
	}
	heads, err := s.unsignedHeads(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, h := range heads {
		for from := h.signed; from < h.head && ctx.Err() == nil; {
			to, err := s.signCheckpoint(ctx, signer, h.account, from, min(h.head, from+maxCheckpoint))
			if err != nil {
				errs = append(errs, err)
				break
			}
			n, from = n+1, to
		}
	}
	return n, errors.Join(errs...)
}

// RunAuditCheckpointer signs checkpoints every interval until ctx ends, then
// once more so that a server that stops leaves its last changes signed.
func (s *Service) RunAuditCheckpointer(ctx context.Context, interval time.Duration) {
	if s.auditSeal().signer == nil {
		return
	}
	sign := func(ctx context.Context) {
		if n, err := s.SignAuditCheckpoints(ctx); err != nil {
			s.log.Error("signing audit checkpoints", "err", err, "signed", n)
		} else if n > 0 {
			s.log.Debug("signed audit checkpoints", "count", n)
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			sign(ctx)
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			sign(last)
			cancel()
			return
		}
	}
}

type chainHead struct {
	account      string
	head, signed int64
}

// unsignedHeads lists the chains with events after their last checkpoint.
// Each head and last checkpoint is one index lookup, so a round costs the
// number of accounts, not of events.
func (s *Service) unsignedHeads(ctx context.Context) ([]chainHead, error) {
	rows, err := s.client.QueryContext(ctx, `
SELECT h.account_id, h.head,
       COALESCE((SELECT MAX(c.to_seq) FROM audit_checkpoints c WHERE c.account_id = h.account_id), 0)
FROM (SELECT '' AS account_id, (SELECT MAX(e.seq) FROM audit_events e WHERE e.account_id = '') AS head
      UNION ALL
      SELECT a.id, (SELECT MAX(e.seq) FROM audit_events e WHERE e.account_id = a.id) FROM accounts a) h
WHERE h.head IS NOT NULL`)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.SignAuditCheckpoints: heads")
	}
	defer rows.Close()
	var out []chainHead
	for rows.Next() {
		var h chainHead
		if err := rows.Scan(&h.account, &h.head, &h.signed); err != nil {
			return nil, apperr.Wrap(err, "iam.SignAuditCheckpoints: heads")
		}
		if h.head > h.signed {
			out = append(out, h)
		}
	}
	return out, rows.Err()
}

// signCheckpoint verifies events from+1 … to against the last checkpoint
// and stores a signed checkpoint of them. It returns the last position
// covered.
func (s *Service) signCheckpoint(ctx context.Context, signer *audit.Signer, accountID string, from, to int64) (int64, error) {
	signedHash := ""
	if from > 0 {
		last, err := s.client.AuditCheckpoint.Query().
			Where(auditcheckpoint.AccountID(accountID), auditcheckpoint.ToSeq(from)).First(ctx)
		if err != nil {
			return 0, apperr.Wrap(err, "iam.SignAuditCheckpoints: last checkpoint")
		}
		signedHash = last.Hashes[len(last.Hashes)-1]
	}
	events, err := s.client.AuditEvent.Query().
		Where(auditevent.AccountID(accountID), auditevent.SeqGT(from), auditevent.SeqLTE(to)).
		Order(ent.Asc(auditevent.FieldSeq)).All(ctx)
	if err != nil {
		return 0, apperr.Wrap(err, "iam.SignAuditCheckpoints: events")
	}
	v := audit.ContinueVerifier(accountID, nil, from, signedHash)
	c := &audit.Checkpoint{ID: ids.New(ids.Checkpoint), AccountID: accountID, FromSeq: from,
		SignedAt: time.Now().UTC().Truncate(time.Microsecond)} // what both databases keep
	for _, e := range events {
		if !v.Add(e) {
			return 0, fmt.Errorf("audit chain %q does not verify at position %d (%s): not signing it", accountID, e.Seq, v.Finish().Problem)
		}
		c.Hashes, c.ToSeq = append(c.Hashes, e.Hash), e.Seq
	}
	if len(events) == 0 {
		return 0, fmt.Errorf("audit chain %q: no events after position %d", accountID, from)
	}
	signer.Sign(c)
	err = s.client.AuditCheckpoint.Create().SetID(c.ID).SetAccountID(c.AccountID).
		SetFromSeq(c.FromSeq).SetToSeq(c.ToSeq).SetHashes(c.Hashes).SetSignedAt(c.SignedAt).
		SetKeyID(c.KeyID).SetSignature(c.Signature).
		OnConflictColumns(auditcheckpoint.FieldAccountID, auditcheckpoint.FieldToSeq).DoNothing().
		Exec(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) { // ErrNoRows: another server signed it first
		return 0, apperr.Wrap(err, "iam.SignAuditCheckpoints: store")
	}
	return c.ToSeq, nil
}
