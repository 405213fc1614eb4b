package iam

import (
	"context"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// AuditFilter narrows an audit export (L3); zero fields match everything.
type AuditFilter struct {
	Action, Actor, Target string
	Since, Until          time.Time
}

// ExportAudit calls fn with each of an account's audit events that match f,
// in chain order, reading in pages so that the log can be any size.
func (s *Service) ExportAudit(ctx context.Context, accountID string, f AuditFilter, fn func(*ent.AuditEvent) error) error {
	if _, err := s.Require(ctx, accountID, "iam.audit.read"); err != nil {
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
	var after int64
	for {
		events, err := q.Clone().Where(auditevent.SeqGT(after)).Order(ent.Asc(auditevent.FieldSeq)).Limit(500).All(ctx)
		if err != nil {
			return apperr.Wrap(err, "iam.ExportAudit")
		}
		for _, e := range events {
			if err := fn(e); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(events) < 500 {
			return nil
		}
	}
}
