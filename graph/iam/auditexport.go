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
	if !f.Since.IsZero() {
		q.Where(auditevent.CreatedAtGTE(f.Since))
	}
	if !f.Until.IsZero() {
		q.Where(auditevent.CreatedAtLT(f.Until))
	}
	return s.eachEvent(ctx, q, fn)
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
	if err := s.eachEvent(ctx, s.client.AuditEvent.Query().Where(auditevent.AccountID(accountID)), w.Event); err != nil {
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

// eachEvent calls fn with each event q selects, in chain order, a page at a
// time. An export takes as long as the log is long; each page's read has the
// request deadline (step): a stalled database ends it UNAVAILABLE instead
// of holding a pool connection for as long as the stall lasts.
func (s *Service) eachEvent(ctx context.Context, q *ent.AuditEventQuery, fn func(*ent.AuditEvent) error) error {
	const page = 500
	var after int64
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
