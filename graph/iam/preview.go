package iam

import (
	"context"
	"slices"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/sodrule"
)

// MemberChange is what one member would gain and lose.
type MemberChange struct {
	Member *ent.Member
	Gained []string
	Lost   []string
}

// RolePreview answers "what if this role changed?" (V4).
type RolePreview struct {
	// Role is the role as it would be.
	Role       *ent.Role
	Changes    []MemberChange
	Violations []Violation
}

// PreviewRoleUpdate runs updateRole's own checks and change in a
// transaction that is rolled back, and reports which ACTIVE members would
// gain or lose which permissions and which separation-of-duty rules would be
// broken. Nothing changes.
func (s *Service) PreviewRoleUpdate(ctx context.Context, in UpdateRoleInput) (*RolePreview, error) {
	a, err := s.prepare(ctx, Ref{RoleID: in.RoleID}, "iam.roles.manage")
	if err != nil {
		return nil, err
	}
	constraints, err := checkRoleUpdate(in)
	if err != nil {
		return nil, err
	}
	accountID := a.Account.ID
	p := &RolePreview{Changes: []MemberChange{}}
	err = s.dryRun(ctx, accountID, func(tx *ent.Tx) error {
		holders, err := tx.Member.Query().
			Where(member.AccountID(accountID), member.StatusEQ(member.StatusACTIVE),
				member.HasAssignmentsWith(assignment.RoleID(in.RoleID))).
			WithAssignments().Order(ent.Asc(member.FieldID)).All(ctx)
		if err != nil {
			return err
		}
		before, err := s.holdings(ctx, tx, accountID, holders)
		if err != nil {
			return err
		}
		if p.Role, err = applyRoleUpdate(ctx, tx, a, accountID, in, constraints); err != nil {
			return err
		}
		after, err := s.holdings(ctx, tx, accountID, holders)
		if err != nil {
			return err
		}
		for i, h := range holders {
			c := MemberChange{Member: h, Gained: minus(after[i], before[i]), Lost: minus(before[i], after[i])}
			if len(c.Gained)+len(c.Lost) > 0 {
				p.Changes = append(p.Changes, c)
			}
		}
		rules, err := tx.SodRule.Query().Where(sodrule.AccountID(accountID)).All(ctx)
		if err != nil {
			return err
		}
		p.Violations, err = s.violations(ctx, tx.Client(), accountID, rules)
		return err
	})
	if err != nil {
		return nil, err
	}
	if p.Violations == nil {
		p.Violations = []Violation{}
	}
	p.Role = p.Role.Unwrap() // read after the rolled-back transaction
	return p, nil
}

// holdings computes members' permissions as tx sees the account.
func (s *Service) holdings(ctx context.Context, tx *ent.Tx, accountID string, members []*ent.Member) ([][]string, error) {
	m, err := s.loadModel(ctx, tx.Client(), accountID)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(members))
	for i, mem := range members {
		out[i] = m.Subject(m.HeldRoles(mem)).Permissions()
	}
	return out, nil
}

// minus returns the sorted keys of a that are not in b.
func minus(a, b []string) []string {
	out := []string{}
	for _, k := range a {
		if _, ok := slices.BinarySearch(b, k); !ok {
			out = append(out, k)
		}
	}
	return out
}
