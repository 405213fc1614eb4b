package iam

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

var (
	roleKeyRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	attributeRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	nonKeyChars = regexp.MustCompile(`[^a-z0-9]+`)
)

// keyFromName derives a role key from its name: "Billing Admin" → billing_admin.
func keyFromName(name string) string {
	k := strings.Trim(nonKeyChars.ReplaceAllString(strings.ToLower(name), "_"), "_")
	if len(k) > 64 {
		k = k[:64]
	}
	return k
}

// checkGrantInput validates grants (R5) and keeps deny masks to operators (K6).
func (a *Access) checkGrantInput(grants []string) error {
	if invalid := a.Policy.InvalidGrants(grants, true); len(invalid) > 0 {
		return apperr.New(apperr.BadUserInput,
			"invalid grants (malformed, or not in the account's master list): %s", strings.Join(invalid, ", ")).
			With("invalidGrants", invalid)
	}
	if masks := a.masksIn(grants); len(masks) > 0 && !a.Operator {
		return apperr.New(apperr.Forbidden, "only the operator puts deny masks on roles or takes them off: %s", strings.Join(masks, ", ")).
			With("reason", "DENY_MASK")
	}
	return nil
}

func (a *Access) masksIn(grants []string) []string {
	var masks []string
	for _, g := range grants {
		if p, ok := a.Policy.Lookup(g); ok && p.Kind == authz.DenyMask {
			masks = append(masks, g)
		}
	}
	return masks
}

// constraintsOf validates constraint input (D3).
func constraintsOf(in []*ConstraintInput) (map[string][]string, error) {
	out := map[string][]string{}
	var bad []string
	for _, c := range in {
		switch {
		case !attributeRE.MatchString(c.Attribute):
			bad = append(bad, "constraint attribute "+c.Attribute+" is malformed")
		case len(c.Values) == 0:
			bad = append(bad, "constraint "+c.Attribute+" needs at least one value")
		case out[c.Attribute] != nil:
			bad = append(bad, "constraint "+c.Attribute+" is given twice")
		default:
			out[c.Attribute] = dedupe(c.Values)
		}
	}
	if len(bad) > 0 {
		return nil, badInput(bad)
	}
	return out, nil
}

// narrower reports whether constraints next restrict at least as much as prev.
func narrower(next, prev map[string][]string) bool {
	for attr, vals := range prev {
		nv, ok := next[attr]
		if !ok {
			return false
		}
		for _, v := range nv {
			if !slices.Contains(vals, v) {
				return false
			}
		}
	}
	return true
}

func dedupe(s []string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func requireFeature(enabled bool, name string) error {
	if !enabled {
		return apperr.New(apperr.FeatureNotAvailable, "the account's plan does not include %s", name).With("feature", name)
	}
	return nil
}

// CreateRole creates a custom role (R3, R5, R7).
func (s *Service) CreateRole(ctx context.Context, in CreateRoleInput) (*ent.Role, error) {
	in.Name = strings.TrimSpace(in.Name)
	key := keyFromName(in.Name)
	if in.Key != nil {
		key = *in.Key
	}
	var bad []string
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 200 {
		bad = append(bad, "name must be 1–200 characters")
	}
	if !roleKeyRE.MatchString(key) {
		bad = append(bad, "key "+key+" must be 1–64 lower-case letters, digits, _ and -")
	}
	if len(bad) > 0 {
		return nil, badInput(bad)
	}
	constraints, err := constraintsOf(in.Constraints)
	if err != nil {
		return nil, err
	}
	var r *ent.Role
	err = s.change(ctx, Ref{AccountID: in.AccountID}, "iam.roles.manage", func(c *Change) error {
		tx, a := c.Tx, c.Access
		c.Alters(touchRoles)
		if err := customRoles(a); err != nil {
			return err
		}
		// The model is exact under the account's lock: the roles are read
		// from it, not queried again.
		grants := []string{}
		if in.CopyFromRoleID != nil {
			copied, cons, err := copiedRole(ctx, c, *in.CopyFromRoleID)
			if err != nil {
				return err
			}
			grants = append(grants, copied...)
			if len(in.Constraints) == 0 && len(cons) > 0 {
				constraints = cons
			}
		}
		grants = dedupe(append(grants, in.Grants...))
		if len(constraints) > 0 {
			if err := requireFeature(a.Account.ResourceConstraints, "resourceConstraints"); err != nil {
				return err
			}
		}
		if err := a.checkGrantInput(grants); err != nil {
			return err
		}
		if err := a.checkGrants("granting these permissions", grants); err != nil {
			return err
		}
		if a.hasRoleKey(key) {
			return apperr.New(apperr.Conflict, "a role with key %q exists in this account", key)
		}
		pos := len(a.roles)
		// The time both databases keep: the row goes into the model as
		// written (WroteRole), and reads the same as when read back.
		now := time.Now().UTC().Truncate(time.Microsecond)
		var err error
		r, err = tx.Role.Create().SetAccountID(in.AccountID).SetKey(key).SetName(in.Name).SetCreatedAt(now).SetUpdatedAt(now).
			SetDescription(deref(in.Description)).SetKind(role.KindCUSTOM).
			SetGrants(grants).SetConstraints(constraints).SetPosition(pos).Save(ctx)
		if err != nil {
			return err
		}
		c.WroteRole(r)
		return record(ctx, tx, event{AccountID: in.AccountID, Action: "role.created", TargetType: "Role", TargetID: r.ID,
			Changes: map[string]any{"after": roleView(r)}})
	})
	if err != nil {
		return nil, err
	}
	return r.Unwrap(), nil
}

// UpdateRole changes a custom role (R4, R5, R7). The change applies to every
// holder at once.
func (s *Service) UpdateRole(ctx context.Context, in UpdateRoleInput) (*ent.Role, error) {
	constraints, err := checkRoleUpdate(in)
	if err != nil {
		return nil, err
	}
	var r *ent.Role
	err = s.change(ctx, Ref{RoleID: in.RoleID}, "iam.roles.manage", func(c *Change) (err error) {
		c.Alters(touchRoles)
		if r, err = applyRoleUpdate(ctx, c, in, constraints); err == nil {
			c.WroteRole(r)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return r.Unwrap(), nil
}

// checkRoleUpdate validates an update's shape before any database work.
func checkRoleUpdate(in UpdateRoleInput) (map[string][]string, error) {
	if in.Grants != nil && (in.AddGrants != nil || in.RemoveGrants != nil || in.CopyFromRoleID != nil) {
		return nil, apperr.New(apperr.BadUserInput, "give either grants, or copyFromRoleId and/or addGrants and removeGrants")
	}
	if in.Name != nil && (strings.TrimSpace(*in.Name) == "" || utf8.RuneCountInString(*in.Name) > 200) {
		return nil, badInput([]string{"name must be 1–200 characters"})
	}
	if in.Constraints == nil {
		return nil, nil
	}
	return constraintsOf(in.Constraints)
}

// applyRoleUpdate changes a role in tx (R4, R5, R7) with its audit event.
func applyRoleUpdate(ctx context.Context, c *Change, in UpdateRoleInput, constraints map[string][]string) (*ent.Role, error) {
	tx, a, accountID := c.Tx, c.Access, c.AccountID
	cur, err := tx.Role.Get(ctx, in.RoleID)
	if err != nil {
		return nil, notFoundOr(err, "role", in.RoleID)
	}
	if cur.Kind == role.KindSYSTEM {
		return nil, apperr.New(apperr.Forbidden, "system role %q cannot be changed", cur.Key).With("reason", "SYSTEM_ROLE")
	}
	if err := customRoles(a); err != nil {
		return nil, err
	}
	if cur.Version != in.ExpectedVersion {
		return nil, apperr.New(apperr.VersionConflict, "the role changed since version %d; it is at version %d", in.ExpectedVersion, cur.Version).
			With("currentVersion", cur.Version)
	}
	// Copying from another role replaces the grants, and the constraints
	// unless the input gives its own; addGrants and removeGrants apply after.
	base := cur.Grants
	if in.CopyFromRoleID != nil {
		copied, cons, err := copiedRole(ctx, c, *in.CopyFromRoleID)
		if err != nil {
			return nil, err
		}
		base = copied
		if constraints == nil {
			constraints = cons
		}
	}
	grants := cur.Grants
	switch {
	case in.Grants != nil:
		grants = dedupe(in.Grants)
	case in.AddGrants != nil || in.RemoveGrants != nil || in.CopyFromRoleID != nil:
		grants = dedupe(append(slices.Clone(base), in.AddGrants...))
		grants = slices.DeleteFunc(grants, func(g string) bool { return slices.Contains(in.RemoveGrants, g) })
	}
	added := slices.DeleteFunc(slices.Clone(grants), func(g string) bool { return slices.Contains(cur.Grants, g) })
	removed := slices.DeleteFunc(slices.Clone(cur.Grants), func(g string) bool { return slices.Contains(grants, g) })
	if err := a.checkGrantInput(added); err != nil {
		return nil, err
	}
	if masks := a.masksIn(removed); len(masks) > 0 && !a.Operator {
		return nil, apperr.New(apperr.Forbidden, "only the operator takes deny masks off roles: %s", strings.Join(masks, ", ")).
			With("reason", "DENY_MASK")
	}
	if err := a.checkGrants("granting these permissions", added); err != nil {
		return nil, err
	}
	u := tx.Role.Update().Where(role.ID(cur.ID), role.Version(in.ExpectedVersion)).
		SetGrants(grants).AddVersion(1)
	if constraints != nil {
		if len(constraints) > 0 {
			if err := requireFeature(a.Account.ResourceConstraints, "resourceConstraints"); err != nil {
				return nil, err
			}
		}
		// Loosening constraints gives what the role grants to more resources (R7).
		if !narrower(constraints, cur.Constraints) {
			if err := a.checkGrants("loosening the role's constraints", grants); err != nil {
				return nil, err
			}
		}
		u.SetConstraints(constraints)
	}
	if in.Name != nil {
		u.SetName(strings.TrimSpace(*in.Name))
	}
	if in.Description != nil {
		u.SetDescription(*in.Description)
	}
	n, err := u.Save(ctx)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, apperr.New(apperr.VersionConflict, "the role changed concurrently").With("currentVersion", cur.Version+1)
	}
	r, err := tx.Role.Get(ctx, cur.ID)
	if err != nil {
		return nil, err
	}
	return r, record(ctx, tx, event{AccountID: accountID, Action: "role.updated", TargetType: "Role", TargetID: r.ID,
		Changes: diff(roleView(cur), roleView(r))})
}

// DeleteRole deletes a custom role (R6). Holders block it unless they are
// moved to reassignToRoleId in the same transaction.
func (s *Service) DeleteRole(ctx context.Context, in DeleteRoleInput) (reassigned int, err error) {
	err = s.change(ctx, Ref{RoleID: in.RoleID}, "iam.roles.manage", func(c *Change) error {
		tx, a, accountID := c.Tx, c.Access, c.AccountID
		c.Alters(touchRoles, touchMembers)
		cur, err := tx.Role.Get(ctx, in.RoleID)
		if err != nil {
			return notFoundOr(err, "role", in.RoleID)
		}
		if cur.Kind == role.KindSYSTEM {
			return apperr.New(apperr.Forbidden, "system role %q cannot be deleted", cur.Key).With("reason", "SYSTEM_ROLE")
		}
		if err := keepNewMemberRole(a.Account, cur.Key); err != nil {
			return err
		}
		holders, err := tx.Assignment.Query().Where(assignment.RoleID(cur.ID)).All(ctx)
		if err != nil {
			return err
		}
		// The target is checked even when nobody is to move: an id of
		// another account is NOT_FOUND wherever it is given, used or not.
		var target *ent.Role
		if in.ReassignToRoleID != nil {
			if target, err = tx.Role.Query().Where(role.ID(*in.ReassignToRoleID), role.AccountID(accountID)).Only(ctx); err != nil {
				return notFoundOr(err, "role", *in.ReassignToRoleID)
			}
			if target.ID == cur.ID {
				return apperr.New(apperr.BadUserInput, "reassignToRoleId must name another role")
			}
		}
		changes := map[string]any{"before": roleView(cur)}
		if len(holders) > 0 {
			if target == nil {
				return apperr.New(apperr.Conflict, "%d members hold role %q; give reassignToRoleId to move them", len(holders), cur.Key).
					With("reason", "ROLE_HELD").With("holders", len(holders))
			}
			if err := a.checkRoles("assigning the target role", []*ent.Role{target}); err != nil {
				return err
			}
			moved := make([]string, 0, len(holders))
			for _, h := range holders {
				held, err := tx.Assignment.Query().Where(assignment.MemberID(h.MemberID), assignment.RoleID(target.ID)).Exist(ctx)
				if err != nil {
					return err
				}
				if !held {
					if err := assign(ctx, tx, accountID, h.MemberID, target); err != nil {
						return err
					}
				}
				moved = append(moved, h.MemberID)
			}
			reassigned = len(moved)
			changes["reassignedTo"] = target.Key
			changes["members"] = moved
		}
		if _, err := tx.Assignment.Delete().Where(assignment.RoleID(cur.ID)).Exec(ctx); err != nil {
			return err
		}
		if err := tx.Role.DeleteOneID(cur.ID).Exec(ctx); err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: accountID, Action: "role.deleted", TargetType: "Role", TargetID: cur.ID, Changes: changes})
	})
	return reassigned, err
}

func roleView(r *ent.Role) map[string]any {
	return map[string]any{"key": r.Key, "name": r.Name, "description": r.Description,
		"grants": r.Grants, "constraints": r.Constraints, "version": r.Version}
}
