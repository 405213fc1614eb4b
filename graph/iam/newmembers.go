package iam

import (
	"context"
	"fmt"
	"slices"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// What an account gives the members it gains, and what it asks of their
// roles (M2): least privilege unless the product says otherwise.

// MaxMinRoles bounds minRolesPerMember.
const MaxMinRoles = 100

// NewMemberRoles are the roles a member added without roles receives (M2).
// Accounts that a server older than the setting created give default_access,
// as every account did then.
func NewMemberRoles(acc *ent.Account) []string {
	if acc.NewMemberRoles == nil {
		return []string{DefaultAccess}
	}
	return acc.NewMemberRoles
}

// checkCount enforces SINGLE accounts' one role per member (A2) and the
// account's minRolesPerMember (M2, Convrs' "one or more roles").
func checkCount(acc *ent.Account, roles []*ent.Role) error {
	if acc.RoleAssignment == account.RoleAssignmentSINGLE && len(roles) != 1 {
		return apperr.New(apperr.BadUserInput, "this account gives each member exactly one role; %d given", len(roles)).
			With("reason", "SINGLE_ROLE")
	}
	if len(roles) < acc.MinRolesPerMember {
		return apperr.New(apperr.BadUserInput, "this account gives each member at least %d role(s); %d given", acc.MinRolesPerMember, len(roles)).
			With("reason", "TOO_FEW_ROLES").With("minRolesPerMember", acc.MinRolesPerMember)
	}
	return nil
}

// checkRoleSettings validates new-member roles and minRolesPerMember against
// the account's roles and role assignment, before anything is written.
func checkRoleSettings(ctx context.Context, tx *ent.Tx, accountID string, ra account.RoleAssignment, newRoles []string, minRoles int) error {
	var bad []string
	if minRoles < 0 || minRoles > MaxMinRoles {
		bad = append(bad, fmt.Sprintf("minRolesPerMember must be 0–%d", MaxMinRoles))
	}
	if ra == account.RoleAssignmentSINGLE && minRoles > 1 {
		bad = append(bad, "minRolesPerMember cannot exceed 1 when each member holds exactly one role")
	}
	if len(newRoles) > 0 {
		have, err := tx.Role.Query().Where(role.AccountID(accountID), role.KeyIn(newRoles...)).Select(role.FieldKey).Strings(ctx)
		if err != nil {
			return err
		}
		for _, k := range newRoles {
			if !slices.Contains(have, k) {
				bad = append(bad, "newMemberRoles: "+k+" is not a role of the account")
			}
		}
	}
	if len(bad) > 0 {
		return badInput(bad)
	}
	return nil
}

// checkMinRoles refuses raising minRolesPerMember while a member holds
// fewer roles: give them roles first (as A2 does for SINGLE).
func checkMinRoles(ctx context.Context, tx *ent.Tx, accountID string, minRoles int) error {
	offenders, err := membersHolding(ctx, tx, accountID, func(n int) bool { return n < minRoles })
	if err != nil {
		return err
	}
	if len(offenders) > 0 {
		return apperr.New(apperr.Conflict, "%d members hold fewer than %d role(s); give them roles first", len(offenders), minRoles).
			With("reason", "TOO_FEW_ROLES").With("members", offenders)
	}
	return nil
}

// customRoles refuses creating, editing and deleting custom roles without the
// customRoles feature (A3) or, where the account names one, without its
// permission in the master list: Truora's truora.roles is "not enabled by
// default", for anyone, the owner included, until the operator adds it.
func customRoles(a *Access) error {
	if err := requireFeature(a.Account.CustomRoles, "customRoles"); err != nil {
		return err
	}
	if p := a.Account.CustomRolesPermission; p != "" && !a.Policy.InMaster(p) {
		return apperr.New(apperr.FeatureNotAvailable, "custom roles need %s in the account's master list; ask the operator for it", p).
			With("feature", "customRoles").With("permission", p)
	}
	return nil
}

// updateRoleSettings applies a settings change to new-member roles and
// minRolesPerMember, checked against the account as it will be.
func updateRoleSettings(ctx context.Context, tx *ent.Tx, before *ent.Account, st *AccountSettingsInput, u *ent.AccountUpdateOne) error {
	if st.NewMemberRoles == nil && st.MinRolesPerMember == nil && st.RoleAssignment == nil {
		return nil
	}
	ra, roles, minRoles := before.RoleAssignment, NewMemberRoles(before), before.MinRolesPerMember
	if st.RoleAssignment != nil {
		ra = *st.RoleAssignment
	}
	if st.NewMemberRoles != nil {
		roles = dedupe(st.NewMemberRoles)
		u.SetNewMemberRoles(roles)
	}
	if st.MinRolesPerMember != nil {
		minRoles = *st.MinRolesPerMember
		u.SetMinRolesPerMember(minRoles)
	}
	if err := checkRoleSettings(ctx, tx, before.ID, ra, roles, minRoles); err != nil {
		return err
	}
	if minRoles > before.MinRolesPerMember {
		return checkMinRoles(ctx, tx, before.ID, minRoles)
	}
	return nil
}

// inCatalog refuses a key that is not a catalog permission.
func inCatalog(ctx context.Context, tx *ent.Tx, key string) error {
	n, err := tx.Permission.Query().Where(permission.Key(key)).Count(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return badInput([]string{"customRolesPermission: " + key + " is not a catalog permission"})
	}
	return nil
}

// keepNewMemberRole refuses deleting a role the account gives new members.
func keepNewMemberRole(acc *ent.Account, key string) error {
	if slices.Contains(NewMemberRoles(acc), key) {
		return apperr.New(apperr.Conflict, "new members receive role %q (settings.newMemberRoles); change that setting first", key).
			With("reason", "NEW_MEMBER_ROLE")
	}
	return nil
}

// membersHolding returns the ids of the account's members (removed ones
// aside) whose number of roles is one that count picks.
func membersHolding(ctx context.Context, tx *ent.Tx, accountID string, count func(n int) bool) ([]string, error) {
	members, err := membersWithAssignments(ctx,
		tx.Member.Query().Where(member.AccountID(accountID), member.StatusNEQ(member.StatusREMOVED)), tx.Assignment, accountID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, m := range members {
		if count(len(m.Edges.Assignments)) {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}
