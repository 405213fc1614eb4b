package iam

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// Membership is one of a user's accounts with what they may do there (M6).
type Membership struct {
	Account     *ent.Account
	Member      *ent.Member
	Roles       []*ent.Role
	Permissions []string
	Masks       []string
}

// Memberships lists the caller's memberships that are not REMOVED.
func (s *Service) Memberships(ctx context.Context) ([]Membership, error) {
	p := auth.FromContext(ctx)
	if p == nil || p.Kind != auth.User || p.UserID == "" {
		return nil, nil
	}
	members, err := s.membersOfUser(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	// Invitations made since the user authenticated here are accepted now
	// (M1), and the list read again: found by the same query, not by one
	// more on every request.
	activated, err := s.activateInvited(ctx, members)
	if err != nil {
		return nil, err
	}
	if activated {
		if members, err = s.membersOfUser(ctx, p.UserID); err != nil {
			return nil, err
		}
	}
	out := make([]Membership, 0, len(members))
	for _, m := range members {
		ms := Membership{Account: m.Edges.Account, Member: m, Permissions: []string{}, Masks: []string{}}
		for _, a := range m.Edges.Assignments {
			ms.Roles = append(ms.Roles, a.Edges.Role)
		}
		if m.Status == member.StatusACTIVE && ms.Account.Status == account.StatusACTIVE {
			model, err := s.Model(ctx, m.AccountID)
			if err != nil {
				return nil, err
			}
			sub := model.Subject(ms.Roles)
			ms.Permissions, ms.Masks = sub.Permissions(), sub.Masks()
		}
		out = append(out, ms)
	}
	return out, nil
}

// membersOfUser reads a user's memberships that are not REMOVED, with their
// accounts and roles, in member id order.
func (s *Service) membersOfUser(ctx context.Context, userID string) ([]*ent.Member, error) {
	members, err := s.client.Member.Query().
		Where(member.UserID(userID), member.StatusNEQ(member.StatusREMOVED)).
		WithAccount().
		WithAssignments(func(q *ent.AssignmentQuery) { q.WithRole() }).
		Order(ent.Asc(member.FieldID)).
		All(ctx)
	return members, classify(err)
}

// ActivateInvited makes a user's INVITED memberships ACTIVE: it runs when the
// user first authenticates on a server (M1). Invitations made later are
// activated when the user first reaches their account (loadAccess) or lists
// their memberships.
func (s *Service) ActivateInvited(ctx context.Context, userID string) error {
	invited, err := s.client.Member.Query().
		Where(member.UserID(userID), member.StatusEQ(member.StatusINVITED)).All(ctx)
	if err != nil {
		return classify(err)
	}
	_, err = s.activateInvited(ctx, invited)
	return err
}

// activateInvited activates those of members that are INVITED, and reports
// whether there were any.
func (s *Service) activateInvited(ctx context.Context, members []*ent.Member) (bool, error) {
	activated := false
	for _, m := range members {
		if m.Status != member.StatusINVITED {
			continue
		}
		if err := s.activate(ctx, m.AccountID, m.ID); err != nil {
			return activated, err
		}
		activated = true
	}
	return activated, nil
}

// activate makes one INVITED membership ACTIVE, the user being
// authenticated, and leaves the account's model with that member changed,
// as a member write does (Change.WroteMember): dropping it made this
// server's next request read a large account whole.
func (s *Service) activate(ctx context.Context, accountID, memberID string) error {
	return s.runTx(ctx, accountID, true, func(tx *ent.Tx) (*Model, error) {
		m, err := s.lockedModel(ctx, tx, accountID)
		if err != nil {
			return nil, err
		}
		n, err := tx.Member.Update().
			Where(member.ID(memberID), member.StatusEQ(member.StatusINVITED)).
			SetStatus(member.StatusACTIVE).Save(ctx)
		if err != nil || n == 0 {
			return nil, err // another request activated it first
		}
		err = record(ctx, tx, event{AccountID: accountID, Action: "member.activated", TargetType: "Member", TargetID: memberID,
			Changes: diff(member.StatusINVITED, member.StatusACTIVE)})
		if err != nil {
			return nil, err
		}
		head, _ := headOf(tx, accountID)
		return m.evolve(ctx, tx, touchMembers, head.seq, nil, []string{memberID})
	})
}
