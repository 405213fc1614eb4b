package iam

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/ent/user"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// normalizeEmail checks an address and lower-cases it.
func normalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", fmt.Errorf("email %q is not a valid address", s)
	}
	return s, nil
}

// upsertUser returns the user with email, creating it when new.
func upsertUser(ctx context.Context, tx *ent.Tx, email, name string) (*ent.User, error) {
	u, err := tx.User.Query().Where(user.Email(email)).Only(ctx)
	if ent.IsNotFound(err) {
		return tx.User.Create().SetEmail(email).SetName(name).Save(ctx)
	}
	if err == nil && u.Name == "" && name != "" {
		if err := renameUser(ctx, tx, u, name); err != nil {
			return nil, err
		}
	}
	return u, err
}

// newMember starts creating u's membership of an account, with the copies
// of the user's email and name that member search sorts and filters on.
func newMember(tx *ent.Tx, accountID string, u *ent.User) *ent.MemberCreate {
	return tx.Member.Create().SetAccountID(accountID).SetUserID(u.ID).SetEmail(u.Email).SetName(u.Name)
}

// renameUser changes a user's name, and the copies its memberships keep.
func renameUser(ctx context.Context, tx *ent.Tx, u *ent.User, name string) error {
	if err := u.Update().SetName(name).Exec(ctx); err != nil {
		return err
	}
	u.Name = name
	return tx.Member.Update().Where(member.UserID(u.ID)).SetName(name).Exec(ctx)
}

func assign(ctx context.Context, tx *ent.Tx, accountID, memberID string, roles ...*ent.Role) error {
	creates := make([]*ent.AssignmentCreate, len(roles))
	for i, r := range roles {
		creates[i] = tx.Assignment.Create().SetAccountID(accountID).SetMemberID(memberID).SetRoleID(r.ID)
	}
	return tx.Assignment.CreateBulk(creates...).Exec(ctx)
}

// rolesOf returns the roles a member holds, in id order.
func rolesOf(ctx context.Context, tx *ent.Tx, memberID string) ([]*ent.Role, error) {
	return tx.Role.Query().Where(rolesHeldBy(memberID)).
		Order(ent.Asc(role.FieldID)).All(ctx)
}

// resolveRoles finds roles of an account by id and key. Ids and keys that are
// not roles of the account are NOT_FOUND.
func resolveRoles(ctx context.Context, tx *ent.Tx, accountID string, ids, keys []string) ([]*ent.Role, error) {
	if len(ids)+len(keys) == 0 {
		return nil, nil
	}
	found, err := tx.Role.Query().Where(role.AccountID(accountID), role.Or(role.IDIn(ids...), role.KeyIn(keys...))).
		Order(ent.Asc(role.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if !slices.ContainsFunc(found, func(r *ent.Role) bool { return r.ID == id }) {
			return nil, apperr.NotFoundf("role", id)
		}
	}
	for _, k := range keys {
		if !slices.ContainsFunc(found, func(r *ent.Role) bool { return r.Key == k }) {
			return nil, apperr.NotFoundf("role", k)
		}
	}
	return found, nil
}

func roleKeys(roles []*ent.Role) []string {
	keys := make([]string, len(roles))
	for i, r := range roles {
		keys[i] = r.Key
	}
	return keys
}

// loadMember returns a member of the locked account; members of other
// accounts are NOT_FOUND.
func loadMember(ctx context.Context, tx *ent.Tx, accountID, memberID string) (*ent.Member, error) {
	m, err := tx.Member.Query().Where(member.ID(memberID), member.AccountID(accountID)).Only(ctx)
	if err != nil {
		return nil, notFoundOr(err, "member", memberID)
	}
	return m, nil
}

// AddMember adds a user to an account (M1, M2), ACTIVE or INVITED. A member
// added with no roles named receives the account's new-member roles (none,
// but in Truora's default_access); an empty list names no roles, as it does
// for SetMemberRoles.
func (s *Service) AddMember(ctx context.Context, in AddMemberInput) (*ent.Member, error) {
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return nil, badInput([]string{err.Error()})
	}
	var m *ent.Member
	err = s.change(ctx, Ref{AccountID: in.AccountID}, "iam.members.invite", func(c *Change) error {
		tx, a := c.Tx, c.Access
		c.Alters(touchMembers)
		ids, keys := in.RoleIds, in.RoleKeys
		if ids == nil && keys == nil {
			keys = NewMemberRoles(a.Account)
		}
		roles, err := resolveRoles(ctx, tx, in.AccountID, ids, keys)
		if err != nil {
			return err
		}
		if err := checkCount(a.Account, roles); err != nil {
			return err
		}
		if err := a.checkRoles("assigning these roles", roles); err != nil {
			return err
		}
		u, err := upsertUser(ctx, tx, email, deref(in.Name))
		if err != nil {
			return err
		}
		status := member.StatusACTIVE
		if in.Invite != nil && *in.Invite {
			status = member.StatusINVITED
		}
		m, err = tx.Member.Query().Where(member.AccountID(in.AccountID), member.UserID(u.ID)).Only(ctx)
		switch {
		case ent.IsNotFound(err):
			m, err = newMember(tx, in.AccountID, u).SetStatus(status).Save(ctx)
		case err == nil && m.Status == member.StatusREMOVED:
			m, err = m.Update().SetStatus(status).Save(ctx) // a removed member comes back
		case err == nil:
			return apperr.New(apperr.Conflict, "%s is already a member of this account", email).With("memberId", m.ID)
		}
		if err != nil {
			return err
		}
		if err := assign(ctx, tx, in.AccountID, m.ID, roles...); err != nil {
			return err
		}
		c.WroteMember(m.ID)
		return record(ctx, tx, event{AccountID: in.AccountID, Action: "member.added", TargetType: "Member", TargetID: m.ID,
			Changes: map[string]any{"email": email, "status": status, "roles": roleKeys(roles)}})
	})
	if err != nil {
		return nil, err
	}
	return m.Unwrap(), nil
}

// SetMemberRoles replaces the roles a member holds (M2, R7, M3).
func (s *Service) SetMemberRoles(ctx context.Context, in SetMemberRolesInput) (*ent.Member, error) {
	var m *ent.Member
	err := s.change(ctx, Ref{MemberID: in.MemberID}, "iam.members.roles.assign", func(c *Change) (err error) {
		tx, a, accountID := c.Tx, c.Access, c.AccountID
		c.Alters(touchMembers)
		if m, err = loadMember(ctx, tx, accountID, in.MemberID); err != nil {
			return err
		}
		if m.Status == member.StatusREMOVED {
			return apperr.New(apperr.Conflict, "the member was removed; add them again instead").With("reason", "MEMBER_REMOVED")
		}
		roles, err := resolveRoles(ctx, tx, accountID, in.RoleIds, in.RoleKeys)
		if err != nil {
			return err
		}
		if err := checkCount(a.Account, roles); err != nil {
			return err
		}
		current, err := rolesOf(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		if err := a.checkMember("changing the roles of this member", current); err != nil {
			return err
		}
		added := slices.DeleteFunc(slices.Clone(roles), func(r *ent.Role) bool { return containsRole(current, r) })
		if err := a.checkRoles("assigning these roles", added); err != nil {
			return err
		}
		if err := replaceRoles(ctx, tx, accountID, m.ID, current, roles); err != nil {
			return err
		}
		if err := keepOwner(ctx, tx, accountID); err != nil {
			return err
		}
		if m, err = m.Update().Save(ctx); err != nil { // bump updatedAt
			return err
		}
		c.WroteMember(m.ID)
		return record(ctx, tx, event{AccountID: accountID, Action: "member.roles.changed", TargetType: "Member", TargetID: m.ID,
			Changes: diff(roleKeys(current), roleKeys(roles))})
	})
	if err != nil {
		return nil, err
	}
	return m.Unwrap(), nil
}

func containsRole(roles []*ent.Role, r *ent.Role) bool {
	return slices.ContainsFunc(roles, func(x *ent.Role) bool { return x.ID == r.ID })
}

// replaceRoles makes a member hold exactly roles.
func replaceRoles(ctx context.Context, tx *ent.Tx, accountID, memberID string, current, roles []*ent.Role) error {
	var drop []string
	for _, r := range current {
		if !containsRole(roles, r) {
			drop = append(drop, r.ID)
		}
	}
	if len(drop) > 0 {
		if _, err := tx.Assignment.Delete().Where(assignment.MemberID(memberID), assignment.RoleIDIn(drop...)).Exec(ctx); err != nil {
			return err
		}
	}
	add := slices.DeleteFunc(slices.Clone(roles), func(r *ent.Role) bool { return containsRole(current, r) })
	if len(add) == 0 {
		return nil
	}
	return assign(ctx, tx, accountID, memberID, add...)
}

// SuspendMember takes a member's access away at once (M5).
func (s *Service) SuspendMember(ctx context.Context, in MemberInput) (*ent.Member, error) {
	// Only ACTIVE members: reactivating a suspended invitation would make it
	// ACTIVE before the user ever signed in (M1). An invitation is withdrawn
	// with removeMember.
	return s.changeStatus(ctx, in.MemberID, "iam.members.suspend", "member.suspended",
		[]member.Status{member.StatusACTIVE}, member.StatusSUSPENDED)
}

// ReactivateMember gives a suspended member their access back.
func (s *Service) ReactivateMember(ctx context.Context, in MemberInput) (*ent.Member, error) {
	return s.changeStatus(ctx, in.MemberID, "iam.members.suspend", "member.reactivated",
		[]member.Status{member.StatusSUSPENDED}, member.StatusACTIVE)
}

// RemoveMember removes a member: their roles go, their history stays (M5).
func (s *Service) RemoveMember(ctx context.Context, in MemberInput) (*ent.Member, error) {
	return s.changeStatus(ctx, in.MemberID, "iam.members.remove", "member.removed",
		[]member.Status{member.StatusACTIVE, member.StatusINVITED, member.StatusSUSPENDED}, member.StatusREMOVED)
}

// changeStatus moves a member from one of from to to, keeping M3.
func (s *Service) changeStatus(ctx context.Context, memberID, permission, action string, from []member.Status, to member.Status) (*ent.Member, error) {
	var m *ent.Member
	err := s.change(ctx, Ref{MemberID: memberID}, permission, func(c *Change) (err error) {
		tx, a, accountID := c.Tx, c.Access, c.AccountID
		c.Alters(touchMembers, touchKeys) // a member's keys follow its status (M5)
		if m, err = loadMember(ctx, tx, accountID, memberID); err != nil {
			return err
		}
		if !slices.Contains(from, m.Status) {
			return apperr.New(apperr.Conflict, "the member is %s", m.Status).With("reason", "MEMBER_"+string(m.Status))
		}
		current, err := rolesOf(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		if err := a.checkMember("changing this member", current); err != nil {
			return err
		}
		before := m.Status
		if m, err = m.Update().SetStatus(to).Save(ctx); err != nil {
			return err
		}
		changes := map[string]any{"before": before, "after": to, "roles": roleKeys(current)}
		if to == member.StatusREMOVED {
			if _, err := tx.Assignment.Delete().Where(assignment.MemberID(m.ID)).Exec(ctx); err != nil {
				return err
			}
			revoked, err := revokeKeysOf(ctx, tx, m.ID)
			if err != nil {
				return err
			}
			changes["revokedKeys"] = revoked
		}
		if err := keepOwner(ctx, tx, accountID); err != nil {
			return err
		}
		c.WroteMember(m.ID)
		return record(ctx, tx, event{AccountID: accountID, Action: action, TargetType: "Member", TargetID: m.ID, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return m.Unwrap(), nil
}

// TransferOwnership moves full_access from one member to another in one
// transaction (M4). Users transfer their own ownership; the operator names
// fromMemberId.
func (s *Service) TransferOwnership(ctx context.Context, in TransferOwnershipInput) (from, to *ent.Member, err error) {
	err = s.change(ctx, Ref{AccountID: in.AccountID}, "iam.members.ownership.transfer", func(c *Change) error {
		tx, a := c.Tx, c.Access
		c.Alters(touchMembers)
		fromID := deref(in.FromMemberID)
		switch {
		case a.Operator && fromID == "":
			return apperr.New(apperr.BadUserInput, "fromMemberId is required for the operator")
		case !a.Operator && a.Member == nil:
			return apperr.New(apperr.Forbidden, "only a member transfers their own ownership; an API key holds none").
				With("reason", "NOT_OWNER")
		case !a.Operator && fromID == "":
			fromID = a.Member.ID
		case !a.Operator && fromID != a.Member.ID:
			return apperr.New(apperr.Forbidden, "you can only transfer your own ownership")
		}
		if fromID == in.ToMemberID {
			return apperr.New(apperr.BadUserInput, "fromMemberId and toMemberId are the same member")
		}
		if from, err = loadMember(ctx, tx, in.AccountID, fromID); err != nil {
			return err
		}
		if to, err = loadMember(ctx, tx, in.AccountID, in.ToMemberID); err != nil {
			return err
		}
		if to.Status != member.StatusACTIVE {
			return apperr.New(apperr.Conflict, "the new owner must be ACTIVE; they are %s", to.Status).With("reason", "MEMBER_"+string(to.Status))
		}
		full, err := tx.Role.Query().Where(role.AccountID(in.AccountID), role.Key(FullAccess)).Only(ctx)
		if err != nil {
			return err
		}
		// The previous owner keeps demoteToRoleId, or else what a new
		// member would receive.
		var demote []*ent.Role
		if demoteID := deref(in.DemoteToRoleID); demoteID != "" {
			demote, err = resolveRoles(ctx, tx, in.AccountID, []string{demoteID}, nil)
		} else {
			demote, err = resolveRoles(ctx, tx, in.AccountID, nil, NewMemberRoles(a.Account))
		}
		if err != nil {
			return err
		}
		if containsRole(demote, full) {
			return apperr.New(apperr.BadUserInput, "demoteToRoleId cannot be full_access")
		}
		if a.Account.RoleAssignment == account.RoleAssignmentSINGLE && len(demote) != 1 {
			return apperr.New(apperr.BadUserInput, "demoteToRoleId is required: new members of this account receive no role the previous owner could keep")
		}
		fromRoles, err := rolesOf(ctx, tx, from.ID)
		if err != nil {
			return err
		}
		if !containsRole(fromRoles, full) {
			return apperr.New(apperr.Conflict, "the member giving up ownership does not hold full_access").With("reason", "NOT_OWNER")
		}
		toRoles, err := rolesOf(ctx, tx, to.ID)
		if err != nil {
			return err
		}
		newFrom, newTo := demote, []*ent.Role{full}
		if a.Account.RoleAssignment == account.RoleAssignmentMULTIPLE {
			newFrom = slices.DeleteFunc(slices.Clone(fromRoles), func(r *ent.Role) bool { return r.ID == full.ID })
			for _, r := range demote {
				if !containsRole(newFrom, r) {
					newFrom = append(newFrom, r)
				}
			}
			newTo = append(slices.DeleteFunc(slices.Clone(toRoles), func(r *ent.Role) bool { return r.ID == full.ID }), full)
		}
		if err := checkCount(a.Account, newFrom); err != nil {
			return err
		}
		if err := replaceRoles(ctx, tx, in.AccountID, from.ID, fromRoles, newFrom); err != nil {
			return err
		}
		if err := replaceRoles(ctx, tx, in.AccountID, to.ID, toRoles, newTo); err != nil {
			return err
		}
		if err := keepOwner(ctx, tx, in.AccountID); err != nil {
			return err
		}
		c.WroteMember(from.ID, to.ID)
		return record(ctx, tx, event{AccountID: in.AccountID, Action: "ownership.transferred", TargetType: "Member", TargetID: to.ID,
			Changes: map[string]any{"from": from.ID, "to": to.ID,
				"fromRoles": diff(roleKeys(fromRoles), roleKeys(newFrom)), "toRoles": diff(roleKeys(toRoles), roleKeys(newTo))}})
	})
	if err != nil {
		return nil, nil, err
	}
	return from.Unwrap(), to.Unwrap(), nil
}
