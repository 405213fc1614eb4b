package iam

import (
	"context"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditcheckpoint"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/audit"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// AuditFilter narrows an audit export (L3); zero fields match everything.
type AuditFilter struct {
	Action, Actor, Target string
	Since, Until          time.Time
}

// ExportAudit calls fn with each of an account's audit events that match f,
// in chain order, reading in pages so that the log can be any size.
func (s *Service) ExportAudit(ctx context.Context, accountID string, f AuditFilter, fn func(*ent.AuditEvent) error) error {
	step, cancel := s.step(ctx)
	_, err := s.Require(step, accountID, "iam.audit.read")
	cancel()
	if err != nil {
		return err
	}
	q := s.client.AuditEvent.Query().Where(auditevent.AccountID(accountID))
	if f.Action != "" {
		q.Where(auditevent.Action(f.Action))
	}
	if f.Actor != "" {
		q.Where(auditevent.Or(auditevent.ActorID(f.Actor), auditevent.ActorLabel(f.Actor)))
	}
	if f.Target != "" {
		q.Where(auditevent.TargetID(f.Target))
	}
	var from int64
	if !f.Since.IsZero() {
		q.Where(auditevent.CreatedAtGTE(f.Since))
		var ok bool
		if from, ok, err = s.firstSince(ctx, accountID, f.Since); err != nil || !ok {
			return err
		}
	}
	if !f.Until.IsZero() {
		q.Where(auditevent.CreatedAtLT(f.Until))
	}
	return s.eachEvent(ctx, q, from-1, fn)
}

// firstSince is the lowest seq of the account's events created at or after
// since (ok false when there is none), read from the (account_id,
// created_at) index: an export since a time starts there instead of
// walking the chain from its first event until its filter first matches
// (a million events read for yesterday's). The lowest seq, not that of the
// earliest event: a server's clock behind another's may have stamped a
// later event earlier.
func (s *Service) firstSince(ctx context.Context, accountID string, since time.Time) (seq int64, ok bool, err error) {
	step, cancel := s.step(ctx)
	defer cancel()
	var v []struct {
		Min *int64 `json:"min"`
	}
	err = s.client.AuditEvent.Query().Where(auditevent.AccountID(accountID), auditevent.CreatedAtGTE(since)).
		Aggregate(ent.Min(auditevent.FieldSeq)).Scan(step, &v)
	if err != nil {
		return 0, false, classify(err)
	}
	if len(v) == 0 || v[0].Min == nil {
		return 0, false, nil
	}
	return *v[0].Min, true, nil
}

// ExportAuditLog writes a whole chain with its signed checkpoints, for
// verification offline (L4): an account's with iam.audit.read, or the
// platform's (accountID "") for operators. open is called once the caller
// is allowed, before anything is written.
func (s *Service) ExportAuditLog(ctx context.Context, accountID string, open func() (*audit.Writer, error)) error {
	if accountID == "" {
		if !auth.FromContext(ctx).IsOperator() {
			return apperr.New(apperr.Forbidden, "only the platform operator may export the platform's audit log").With("reason", "OPERATOR_ONLY")
		}
	}
	step, cancel := s.step(ctx)
	var err error
	if accountID != "" {
		_, err = s.Require(step, accountID, "iam.audit.read")
	}
	var bound int64
	if err == nil {
		bound, err = s.signedBound(step, accountID)
	}
	cancel()
	if err != nil {
		return err
	}
	w, err := open()
	if err != nil {
		return err
	}
	if err := s.eachEvent(ctx, s.client.AuditEvent.Query().Where(auditevent.AccountID(accountID)), 0, w.Event); err != nil {
		return err
	}
	const page = 100 // a checkpoint lists up to maxCheckpoint hashes
	after := ""
	for {
		step, cancel := s.step(ctx)
		cps, err := s.client.AuditCheckpoint.Query().
			Where(auditcheckpoint.AccountID(accountID), auditcheckpoint.ToSeqLTE(bound), auditcheckpoint.IDGT(after)).
			Order(ent.Asc(auditcheckpoint.FieldID)).Limit(page).All(step)
		cancel()
		if err != nil {
			return classify(err)
		}
		for _, c := range cps {
			if err := w.Checkpoint(audit.FromEnt(c)); err != nil {
				return err
			}
			after = c.ID
		}
		if len(cps) < page {
			return nil
		}
	}
}

// eachEvent calls fn with each event q selects after seq after, in chain
// order, a page at a time. An export takes as long as the log is long; each
// page's read has the request deadline (step): a stalled database ends it
// UNAVAILABLE instead of holding a pool connection for as long as the stall
// lasts.
func (s *Service) eachEvent(ctx context.Context, q *ent.AuditEventQuery, after int64, fn func(*ent.AuditEvent) error) error {
	const page = 500
	for {
		step, cancel := s.step(ctx)
		events, err := q.Clone().Where(auditevent.SeqGT(after)).Order(ent.Asc(auditevent.FieldSeq)).Limit(page).All(step)
		cancel()
		if err != nil {
			return classify(err)
		}
		for _, e := range events {
			if err := fn(e); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(events) < page {
			return nil
		}
	}
}
