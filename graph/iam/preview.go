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
	constraints, err := checkRoleUpdate(in)
	if err != nil {
		return nil, err
	}
	p := &RolePreview{Changes: []MemberChange{}}
	err = s.preview(ctx, Ref{RoleID: in.RoleID}, "iam.roles.manage", func(c *Change) error {
		tx, accountID := c.Tx, c.AccountID
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
		rules, err := tx.SodRule.Query().Where(sodrule.AccountID(accountID)).All(ctx)
		if err != nil {
			return err
		}
		broken, err := s.violations(ctx, tx.Client(), accountID, rules, nil)
		if err != nil {
			return err
		}
		if p.Role, err = applyRoleUpdate(ctx, c, in, constraints); err != nil {
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
		now, err := s.violations(ctx, tx.Client(), accountID, rules, nil)
		p.Violations = newlyBroken(broken, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.Role = p.Role.Unwrap() // read after the rolled-back transaction
	return p, nil
}

// newlyBroken keeps, of the violations after a change, the roles, members
// and keys that did not already break the same rule before it (a REPORT
// rule may be broken already; V4 answers what the change itself breaks).
// It filters after's slices in place.
func newlyBroken(before, after []Violation) []Violation {
	old := map[string]bool{} // rule id + "/" + role, member or key id
	for _, v := range before {
		for _, r := range v.Roles {
			old[v.Rule.ID+"/"+r.ID] = true
		}
		for _, m := range v.Members {
			old[v.Rule.ID+"/"+m.ID] = true
		}
		for _, k := range v.Keys {
			old[v.Rule.ID+"/"+k.ID] = true
		}
	}
	out := []Violation{}
	for _, v := range after {
		known := func(id string) bool { return old[v.Rule.ID+"/"+id] }
		v.Roles = slices.DeleteFunc(v.Roles, func(r *ent.Role) bool { return known(r.ID) })
		v.Members = slices.DeleteFunc(v.Members, func(m *ent.Member) bool { return known(m.ID) })
		v.Keys = slices.DeleteFunc(v.Keys, func(k *ent.APIKey) bool { return known(k.ID) })
		if len(v.Roles)+len(v.Members)+len(v.Keys) > 0 {
			out = append(out, v)
		}
	}
	return out
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
