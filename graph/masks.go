package graph

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/loaders"
)

// MaskMemberEmail is the deny mask that hides a member's email (K6): both
// Member.email and Member.user, which carries the email too.
const MaskMemberEmail = "mask:member.email"

// unmaskedUser is the member's user, or nil when the caller holds
// MaskMemberEmail in the member's account.
func (r *Resolver) unmaskedUser(ctx context.Context, m *ent.Member) (*ent.User, error) {
	a, err := r.svc.Access(ctx, m.AccountID)
	if err != nil {
		return nil, err
	}
	if a.Masked(MaskMemberEmail) {
		return nil, nil
	}
	return loaders.For(ctx).User.Load(ctx, m.UserID)
}
