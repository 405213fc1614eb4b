package iam

import (
	"context"
	"math"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditcheckpoint"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/audit"
)

// VerifyAuditChain recomputes an account's chain from its first event and,
// when the server knows the checkpoint keys, checks every signed checkpoint
// against it (L2, L4). It names the first event that was altered, removed
// or inserted — the altered event itself, even when every later hash was
// recomputed to hide it.
func (s *Service) VerifyAuditChain(ctx context.Context, accountID string) (*audit.Result, error) {
	if _, err := s.Require(ctx, accountID, "iam.audit.read"); err != nil {
		return nil, err
	}
	keys := s.auditSeal().keys
	var bound int64
	if keys != nil {
		var err error
		if bound, err = s.signedBound(ctx, accountID); err != nil {
			return nil, err
		}
	}
	v := audit.NewVerifier(accountID, keys)
	const page = 1000
	var after int64 // the last position read, and where unread checkpoints start
	for {
		events, err := s.client.AuditEvent.Query().
			Where(auditevent.AccountID(accountID), auditevent.SeqGT(after)).
			Order(ent.Asc(auditevent.FieldSeq)).Limit(page).All(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, "iam.VerifyAuditChain")
		}
		until := int64(math.MaxInt64)
		if len(events) == page {
			until = events[len(events)-1].Seq
		}
		if keys != nil {
			// The checkpoints that cover this page's events and have not been
			// read: those starting before its last event.
			cps, err := s.client.AuditCheckpoint.Query().
				Where(auditcheckpoint.AccountID(accountID), auditcheckpoint.FromSeqGTE(after), auditcheckpoint.FromSeqLT(until),
					auditcheckpoint.ToSeqLTE(bound)).
				All(ctx)
			if err != nil {
				return nil, apperr.Wrap(err, "iam.VerifyAuditChain: checkpoints")
			}
			for _, c := range cps {
				v.AddCheckpoint(audit.FromEnt(c))
			}
		}
		for _, e := range events {
			if !v.Add(e) {
				r := v.Finish()
				return &r, nil
			}
		}
		if len(events) < page {
			r := v.Finish()
			return &r, nil
		}
		after = until
	}
}
