package iam

import (
	"context"
	"slices"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/graph/templates"
)

// templateDefaults fills the settings and features an input leaves out from
// the template (A5); what the input says wins.
func templateDefaults(t *templates.Template, s AccountSettingsInput, f *AccountFeaturesInput) (AccountSettingsInput, *AccountFeaturesInput) {
	if s.RoleAssignment == nil && t.Settings.RoleAssignment != "" {
		ra := account.RoleAssignment(t.Settings.RoleAssignment)
		s.RoleAssignment = &ra
	}
	if s.DefaultAccessExcludes == nil && t.Settings.DefaultAccessExcludes != nil {
		s.DefaultAccessExcludes = t.Settings.DefaultAccessExcludes
	}
	if s.NewMemberRoles == nil {
		s.NewMemberRoles = t.NewMemberRoles()
	}
	if s.MinRolesPerMember == nil {
		n := t.MinRolesPerMember()
		s.MinRolesPerMember = &n
	}
	out := AccountFeaturesInput{CustomRoles: &t.Features.CustomRoles, ResourceConstraints: &t.Features.ResourceConstraints,
		CustomRolesPermission: &t.Features.CustomRolesPermission}
	if f != nil {
		if f.CustomRoles != nil {
			out.CustomRoles = f.CustomRoles
		}
		if f.ResourceConstraints != nil {
			out.ResourceConstraints = f.ResourceConstraints
		}
		if f.CustomRolesPermission != nil {
			out.CustomRolesPermission = f.CustomRolesPermission
		}
	}
	return s, &out
}

// templateMaster is the master list a template starts an account with.
func templateMaster(t *templates.Template) []string {
	if len(t.Master) > 0 {
		return t.Master
	}
	keys := make([]string, 0, len(t.Permissions))
	for _, p := range t.Permissions {
		if !slices.Contains(t.OnRequest, p.Key) {
			keys = append(keys, p.Key)
		}
	}
	return keys
}

// ensureCatalog adds the template's permissions the catalog lacks, in one
// query and one insert; entries the operator already defined are left as
// they are.
func ensureCatalog(ctx context.Context, tx *ent.Tx, t *templates.Template) error {
	keys := make([]string, len(t.Permissions))
	for i, p := range t.Permissions {
		keys[i] = p.Key
	}
	have, err := tx.Permission.Query().Where(permission.KeyIn(keys...)).Select(permission.FieldKey).Strings(ctx)
	if err != nil {
		return err
	}
	var missing []*ent.PermissionCreate
	for _, p := range t.Permissions {
		if slices.Contains(have, p.Key) {
			continue
		}
		kind := permission.KindGRANT
		if p.Kind == "DENY_MASK" {
			kind = permission.KindDENY_MASK
		}
		missing = append(missing, tx.Permission.Create().SetKey(p.Key).SetDescription(p.Description).SetGroup(p.Group).
			SetKind(kind).SetImplies(nonNil(p.Implies)))
	}
	if len(missing) == 0 {
		return nil
	}
	added, err := tx.Permission.CreateBulk(missing...).Save(ctx)
	if err != nil {
		return err
	}
	// A catalog change, on the platform's chain: every server's models and
	// shared catalog depend on the catalog (D6).
	return record(ctx, tx, event{Action: "permissions.defined", TargetType: "Template", TargetID: t.Name,
		Changes: map[string]any{"added": keysOf(added)}})
}

// applyTemplate adds the template's roles (locked ones as SYSTEM roles),
// between full_access and default_access, and its scopes to a new account.
func applyTemplate(ctx context.Context, tx *ent.Tx, acc *ent.Account, t *templates.Template) error {
	for i, r := range t.Roles {
		kind := role.KindCUSTOM
		if r.Locked {
			kind = role.KindSYSTEM
		}
		err := tx.Role.Create().SetAccountID(acc.ID).SetKey(r.Key).SetName(r.Name).SetDescription(r.Description).
			SetKind(kind).SetGrants(nonNil(r.Grants)).SetPosition(1 + i).Exec(ctx)
		if err != nil {
			return err
		}
	}
	for _, sc := range t.Scopes {
		if err := tx.Scope.Create().SetAccountID(acc.ID).SetKey(sc.Key).SetDescription(sc.Description).
			SetGrants(nonNil(sc.Grants)).Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}
