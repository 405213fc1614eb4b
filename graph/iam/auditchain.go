package iam

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// ChainVerification is the result of checking an account's audit chain (L2).
type ChainVerification struct {
	Valid bool
	// Checked is how many events were checked.
	Checked int
	// FirstBroken is the first event whose link does not hold (nil if valid).
	FirstBroken *ent.AuditEvent
	// Problem says what is wrong with it.
	Problem string
}

// VerifyAuditChain recomputes an account's chain from its first event and
// names the first event that was altered, removed or inserted.
func (s *Service) VerifyAuditChain(ctx context.Context, accountID string) (*ChainVerification, error) {
	if _, err := s.Require(ctx, accountID, "iam.audit.read"); err != nil {
		return nil, err
	}
	v := &ChainVerification{Valid: true}
	prev, want := "", int64(1)
	const page = 1000
	for {
		events, err := s.client.AuditEvent.Query().
			Where(auditevent.AccountID(accountID), auditevent.SeqGTE(want)).
			Order(ent.Asc(auditevent.FieldSeq)).Limit(page).All(ctx)
		if err != nil {
			return nil, apperr.Wrap(err, "iam.VerifyAuditChain")
		}
		for _, e := range events {
			problem := ""
			switch {
			case e.Seq != want:
				problem = "an event is missing before this one"
			case e.PrevHash != prev:
				problem = "its link to the previous event does not match"
			case EventHash(e) != e.Hash:
				problem = "its content does not match its hash"
			}
			if problem != "" {
				v.Valid, v.FirstBroken, v.Problem = false, e, problem
				return v, nil
			}
			v.Checked++
			prev, want = e.Hash, want+1
		}
		if len(events) < page {
			return v, nil
		}
	}
}
