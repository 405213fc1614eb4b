package iam

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
	"github.com/gatehouse-iam/gatehouse/graph/templates"
)

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$`)

// defaultExcludes is defaultAccessExcludes when an account does not say (A2).
var defaultExcludes = []string{"iam.*"}

// CreateAccount creates an account with its master list, its system roles and
// its owner as the first ACTIVE member holding full_access (A1), in one
// transaction.
func (s *Service) CreateAccount(ctx context.Context, in CreateAccountInput) (*ent.Account, *ent.Member, error) {
	in.Name = strings.TrimSpace(in.Name)
	var bad []string
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 200 {
		bad = append(bad, "name must be 1–200 characters")
	}
	if !slugRE.MatchString(in.Slug) {
		bad = append(bad, "slug must be 2–63 lower-case letters, digits and dashes, starting and ending with a letter or digit")
	}
	if in.Owner == nil {
		bad = append(bad, "owner is required")
	}
	settings := AccountSettingsInput{}
	if in.Settings != nil {
		settings = *in.Settings
	}
	bad = append(bad, badPatterns("defaultAccessExcludes", settings.DefaultAccessExcludes)...)
	var email, name string
	if in.Owner != nil {
		var err error
		if email, err = normalizeEmail(in.Owner.Email); err != nil {
			bad = append(bad, err.Error())
		}
		name = deref(in.Owner.Name)
	}
	var tmpl *templates.Template
	if in.Template != nil {
		var ok bool
		if tmpl, ok = templates.Get(*in.Template); !ok {
			bad = append(bad, fmt.Sprintf("unknown template %q; templates: %s", *in.Template, strings.Join(templates.Names(), ", ")))
		}
	}
	if len(bad) > 0 {
		return nil, nil, badInput(bad)
	}
	if tmpl != nil {
		settings, in.Features = templateDefaults(tmpl, settings, in.Features)
	}
	if settings.NewMemberRoles == nil {
		settings.NewMemberRoles = []string{DefaultAccess} // an account of its own has both system roles (R2)
	}
	minRoles := 0
	if settings.MinRolesPerMember != nil {
		minRoles = *settings.MinRolesPerMember
	}
	if minRoles < 0 || minRoles > 1 {
		return nil, nil, badInput([]string{"minRolesPerMember must be 0 or 1 at creation: the owner starts with full_access alone"})
	}
	var acc *ent.Account
	var owner *ent.Member
	err := s.inTx(ctx, "", func(tx *ent.Tx) error {
		master := append(builtinKeys(), in.Permissions...)
		if tmpl != nil {
			if err := ensureCatalog(ctx, tx, tmpl); err != nil {
				return err
			}
			master = append(master, templateMaster(tmpl)...)
		}
		perms, unknown, err := resolveCatalog(ctx, tx, master)
		if err != nil {
			return err
		}
		if len(unknown) > 0 {
			return apperr.New(apperr.BadUserInput, "unknown permissions: %s", strings.Join(unknown, ", ")).With("invalid", unknown)
		}
		if n, err := tx.Account.Query().Where(account.Slug(in.Slug)).Count(ctx); err != nil {
			return err
		} else if n > 0 {
			return apperr.New(apperr.Conflict, "an account with slug %q exists", in.Slug)
		}
		c := tx.Account.Create().SetName(in.Name).SetSlug(in.Slug).
			SetDefaultAccessExcludes(defaultExcludes).AddPermissions(perms...).
			SetNewMemberRoles(settings.NewMemberRoles).SetMinRolesPerMember(minRoles)
		if settings.RoleAssignment != nil {
			c.SetRoleAssignment(*settings.RoleAssignment)
		}
		if settings.DefaultAccessExcludes != nil {
			c.SetDefaultAccessExcludes(settings.DefaultAccessExcludes)
		}
		if tmpl != nil {
			c.SetTemplate(tmpl.Name)
		}
		if f := in.Features; f != nil {
			if f.CustomRoles != nil {
				c.SetCustomRoles(*f.CustomRoles)
			}
			if f.ResourceConstraints != nil {
				c.SetResourceConstraints(*f.ResourceConstraints)
			}
			if p := deref(f.CustomRolesPermission); p != "" {
				if err := inCatalog(ctx, tx, p); err != nil {
					return err
				}
				c.SetCustomRolesPermission(p)
			}
		}
		if acc, err = c.Save(ctx); err != nil {
			return err
		}
		full, err := createSystemRoles(ctx, tx, acc.ID, tmpl)
		if err != nil {
			return err
		}
		if tmpl != nil {
			if err := applyTemplate(ctx, tx, acc, tmpl); err != nil {
				return err
			}
		}
		if err := checkRoleSettings(ctx, tx, acc.ID, acc.RoleAssignment, acc.NewMemberRoles, acc.MinRolesPerMember); err != nil {
			return err
		}
		u, err := upsertUser(ctx, tx, email, name)
		if err != nil {
			return err
		}
		if owner, err = newMember(tx, acc.ID, u).SetStatus(member.StatusACTIVE).Save(ctx); err != nil {
			return err
		}
		if err := assign(ctx, tx, acc.ID, owner.ID, full); err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: acc.ID, Action: "account.created", TargetType: "Account", TargetID: acc.ID,
			Changes: map[string]any{"after": accountView(acc, keysOf(perms)), "owner": email}})
	})
	if err != nil {
		return nil, nil, err
	}
	return acc.Unwrap(), owner.Unwrap(), nil
}

// createSystemRoles adds full_access and, unless the template's product has
// no such role, default_access (R2), named in the template's words when it
// has some, and returns full_access. default_access comes after the
// template's roles.
func createSystemRoles(ctx context.Context, tx *ent.Tx, accountID string, tmpl *templates.Template) (*ent.Role, error) {
	last := 1
	if tmpl != nil {
		last += len(tmpl.Roles)
	}
	ft := tmpl.SystemRole(FullAccess, templates.RoleText{Name: "Full access", Description: "Every permission of the account's master list, following it as it changes."})
	full, err := tx.Role.Create().SetAccountID(accountID).SetKey(FullAccess).SetName(ft.Name).SetDescription(ft.Description).
		SetKind(role.KindSYSTEM).SetGrants([]string{"*"}).SetPosition(0).Save(ctx)
	if err != nil || !tmpl.HasSystemRole(DefaultAccess) {
		return full, err
	}
	dt := tmpl.SystemRole(DefaultAccess, templates.RoleText{Name: "Default access", Description: "The master list minus the account's defaultAccessExcludes."})
	err = tx.Role.Create().SetAccountID(accountID).SetKey(DefaultAccess).SetName(dt.Name).SetDescription(dt.Description).
		SetKind(role.KindSYSTEM).SetGrants([]string{"*"}).SetPosition(last).Exec(ctx)
	return full, err
}

// AddAccountPermissions adds keys to a master list (A4).
func (s *Service) AddAccountPermissions(ctx context.Context, in AccountPermissionsInput) (*ent.Account, error) {
	if len(in.Permissions) == 0 {
		return nil, apperr.New(apperr.BadUserInput, "permissions must not be empty")
	}
	err := s.administer(ctx, in.AccountID, "", func(c *Change) error {
		tx := c.Tx
		perms, unknown, err := resolveCatalog(ctx, tx, in.Permissions)
		if err != nil {
			return err
		}
		if len(unknown) > 0 {
			return apperr.New(apperr.BadUserInput, "unknown permissions: %s", strings.Join(unknown, ", ")).With("invalid", unknown)
		}
		have, err := tx.Account.Query().Where(account.ID(in.AccountID)).QueryPermissions().IDs(ctx)
		if err != nil {
			return err
		}
		var add []*ent.Permission
		for _, p := range perms {
			if !slices.Contains(have, p.ID) {
				add = append(add, p)
			}
		}
		if err := tx.Account.UpdateOneID(in.AccountID).AddPermissions(add...).Exec(ctx); err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: in.AccountID, Action: "account.permissions.added", TargetType: "Account", TargetID: in.AccountID,
			Changes: map[string]any{"added": keysOf(add)}})
	})
	if err != nil {
		return nil, err
	}
	return s.client.Account.Get(ctx, in.AccountID)
}

// RemoveAccountPermissions removes keys from a master list and, in the same
// transaction, from the grants of every role of the account (A4). Built-in
// permissions stay in every master list (K7).
func (s *Service) RemoveAccountPermissions(ctx context.Context, in AccountPermissionsInput) (*ent.Account, error) {
	if len(in.Permissions) == 0 {
		return nil, apperr.New(apperr.BadUserInput, "permissions must not be empty")
	}
	err := s.administer(ctx, in.AccountID, "", func(c *Change) error {
		tx := c.Tx
		master, err := tx.Account.Query().Where(account.ID(in.AccountID)).QueryPermissions().All(ctx)
		if err != nil {
			return err
		}
		var remove []*ent.Permission
		var bad []string
		for _, k := range in.Permissions {
			n := 0
			for _, p := range master {
				if p.Key == k || (authz.IsWildcard(k) && authz.Match(k, p.Key)) {
					n++
					if p.BuiltIn {
						bad = append(bad, p.Key+" (built-in permissions are in every master list)")
					} else if !slices.Contains(remove, p) {
						remove = append(remove, p)
					}
				}
			}
			if n == 0 {
				bad = append(bad, k+" (not in the master list)")
			}
		}
		if len(bad) > 0 {
			return badInput(bad)
		}
		removed := keysOf(remove)
		if err := tx.Account.UpdateOneID(in.AccountID).RemovePermissions(remove...).Exec(ctx); err != nil {
			return err
		}
		roles, err := tx.Role.Query().Where(role.AccountID(in.AccountID)).All(ctx)
		if err != nil {
			return err
		}
		stripped := map[string]any{}
		for _, r := range roles {
			kept := slices.DeleteFunc(slices.Clone(r.Grants), func(g string) bool { return slices.Contains(removed, g) })
			if len(kept) == len(r.Grants) {
				continue
			}
			if err := r.Update().SetGrants(kept).AddVersion(1).Exec(ctx); err != nil {
				return err
			}
			stripped[r.Key] = diff(r.Grants, kept)
		}
		return record(ctx, tx, event{AccountID: in.AccountID, Action: "account.permissions.removed", TargetType: "Account", TargetID: in.AccountID,
			Changes: map[string]any{"removed": removed, "roles": stripped}})
	})
	if err != nil {
		return nil, err
	}
	return s.client.Account.Get(ctx, in.AccountID)
}

// UpdateAccount changes an account's name and settings; features and status
// are the operator's (A2, A3, A6).
func (s *Service) UpdateAccount(ctx context.Context, in UpdateAccountInput) (*ent.Account, error) {
	var bad []string
	if in.Name != nil && (strings.TrimSpace(*in.Name) == "" || utf8.RuneCountInString(*in.Name) > 200) {
		bad = append(bad, "name must be 1–200 characters")
	}
	if in.Settings != nil {
		bad = append(bad, badPatterns("defaultAccessExcludes", in.Settings.DefaultAccessExcludes)...)
	}
	if len(bad) > 0 {
		return nil, badInput(bad)
	}
	var acc *ent.Account
	err := s.administer(ctx, in.AccountID, "iam.account.manage", func(c *Change) error {
		tx, a := c.Tx, c.Access
		if !a.Operator && (in.Features != nil || in.Status != nil) {
			return apperr.New(apperr.Forbidden, "only the operator changes features and status")
		}
		before, err := tx.Account.Get(ctx, in.AccountID)
		if err != nil {
			return err
		}
		u := before.Update()
		if in.Name != nil {
			u.SetName(strings.TrimSpace(*in.Name))
		}
		if st := in.Settings; st != nil {
			if st.RoleAssignment != nil {
				if *st.RoleAssignment == account.RoleAssignmentSINGLE && before.RoleAssignment != account.RoleAssignmentSINGLE {
					if err := checkSingle(ctx, tx, in.AccountID); err != nil {
						return err
					}
				}
				u.SetRoleAssignment(*st.RoleAssignment)
			}
			if st.DefaultAccessExcludes != nil {
				// Narrower excludes widen default_access: that is a grant (R7).
				gained := widened(a.Model, before.DefaultAccessExcludes, st.DefaultAccessExcludes)
				if err := a.checkGrants("widening default_access", gained); err != nil {
					return err
				}
				u.SetDefaultAccessExcludes(st.DefaultAccessExcludes)
			}
			if err := updateRoleSettings(ctx, tx, before, st, u); err != nil {
				return err
			}
		}
		if f := in.Features; f != nil {
			if f.CustomRoles != nil {
				u.SetCustomRoles(*f.CustomRoles)
			}
			if f.ResourceConstraints != nil {
				u.SetResourceConstraints(*f.ResourceConstraints)
			}
			if f.CustomRolesPermission != nil {
				if *f.CustomRolesPermission != "" {
					if err := inCatalog(ctx, tx, *f.CustomRolesPermission); err != nil {
						return err
					}
				}
				u.SetCustomRolesPermission(*f.CustomRolesPermission)
			}
		}
		if in.Status != nil {
			u.SetStatus(*in.Status)
		}
		if acc, err = u.Save(ctx); err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: acc.ID, Action: "account.updated", TargetType: "Account", TargetID: acc.ID,
			Changes: diff(accountView(before, nil), accountView(acc, nil))})
	})
	if err != nil {
		return nil, err
	}
	return acc.Unwrap(), nil
}

// checkSingle refuses switching to SINGLE while a member holds other than
// exactly one role (A2).
func checkSingle(ctx context.Context, tx *ent.Tx, accountID string) error {
	offenders, err := membersHolding(ctx, tx, accountID, func(n int) bool { return n != 1 })
	if err != nil {
		return err
	}
	if len(offenders) > 0 {
		return apperr.New(apperr.Conflict, "%d members do not hold exactly one role; give each exactly one role first", len(offenders)).
			With("reason", "MULTIPLE_ROLES").With("members", offenders)
	}
	return nil
}

// widened returns the keys default_access gains when its excludes change.
func widened(m *Model, before, after []string) []string {
	expand := func(ex []string) []string {
		return m.Policy.Expand(authz.Role{Key: DefaultAccess, Grants: []string{"*"}, Excludes: ex})
	}
	old := expand(before)
	var gained []string
	for _, k := range expand(after) {
		if !slices.Contains(old, k) {
			gained = append(gained, k)
		}
	}
	return gained
}

func accountView(a *ent.Account, master []string) map[string]any {
	v := map[string]any{
		"name": a.Name, "slug": a.Slug, "status": a.Status,
		"roleAssignment": a.RoleAssignment, "defaultAccessExcludes": a.DefaultAccessExcludes,
		"customRoles": a.CustomRoles, "resourceConstraints": a.ResourceConstraints,
		"newMemberRoles": NewMemberRoles(a), "minRolesPerMember": a.MinRolesPerMember,
		"customRolesPermission": a.CustomRolesPermission,
	}
	if master != nil {
		v["permissions"] = master
	}
	return v
}

func keysOf(perms []*ent.Permission) []string {
	keys := make([]string, len(perms))
	for i, p := range perms {
		keys[i] = p.Key
	}
	slices.Sort(keys)
	return keys
}

// keepOwner fails with LAST_OWNER when a change left no active owner (M3).
// It reads full_access's holders from the role's index and stops at the
// first active one: counting the account's active members holding it read
// every member of the account (250 ms at 66,000 on PostgreSQL), on every
// member write, under the account's lock.
func keepOwner(ctx context.Context, tx *ent.Tx, accountID string) error {
	ok, err := tx.Assignment.Query().Where(
		ofFullAccess(accountID),
		AssignedToMember(member.StatusEQ(member.StatusACTIVE)),
	).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.Conflict, "the account must keep at least one active member holding full_access").
			With("reason", "LAST_OWNER")
	}
	return nil
}

// requireActive refuses changes inside a suspended account (A6).
func requireActive(acc *ent.Account) error {
	if acc.Status != account.StatusACTIVE {
		return apperr.New(apperr.Forbidden, "the account is suspended").With("reason", "ACCOUNT_SUSPENDED")
	}
	return nil
}

func badPatterns(field string, patterns []string) []string {
	var bad []string
	for _, p := range patterns {
		if !authz.ValidPattern(p) {
			bad = append(bad, field+": malformed pattern "+p)
		}
	}
	return bad
}

func badInput(problems []string) *apperr.Error {
	return apperr.New(apperr.BadUserInput, "%s", strings.Join(problems, "; ")).With("invalid", problems)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
