package iam

import (
	"context"
	"slices"
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

// builtinGroup is the catalog group of Gatehouse's own permissions.
const builtinGroup = "Gatehouse — access management"

// Builtins are the permissions that gate Gatehouse's own API (K7). They are in
// the catalog and in every master list.
var Builtins = []struct{ Key, Description string }{
	{"iam.permissions.read", "Read the account's master list."},
	{"iam.roles.read", "Read the account's roles."},
	{"iam.roles.manage", "Create, change and delete custom roles."},
	{"iam.members.read", "Read the account's members."},
	{"iam.members.manage", "Add, change, suspend and remove members; transfer ownership."},
	{"iam.keys.read", "Read the account's API keys and their permissions."},
	{"iam.keys.manage", "Create and revoke API keys."},
	{"iam.scopes.manage", "Create, change and delete API key scopes."},
	{"iam.audit.read", "Read and export the audit log."},
	{"iam.reviews.read", "Read access reviews."},
	{"iam.sod.manage", "Manage separation-of-duty rules."},
	{"iam.account.manage", "Change the account's name and settings."},
	{"iam.authorize", "Ask for decisions about other subjects."},
}

// builtinKeys returns the keys of Builtins.
func builtinKeys() []string {
	keys := make([]string, len(Builtins))
	for i, b := range Builtins {
		keys[i] = b.Key
	}
	return keys
}

// EnsureBuiltins puts the built-in permissions into the catalog and into every
// master list; it runs at start-up and is safe on many servers at once.
func (s *Service) EnsureBuiltins(ctx context.Context) error {
	creates := make([]*ent.PermissionCreate, len(Builtins))
	for i, b := range Builtins {
		creates[i] = s.client.Permission.Create().
			SetKey(b.Key).SetDescription(b.Description).SetGroup(builtinGroup).
			SetKind(permission.KindGRANT).SetBuiltIn(true)
	}
	err := s.client.Permission.CreateBulk(creates...).
		OnConflict(sql.ConflictColumns(permission.FieldKey)).
		DoNothing().
		Exec(ctx)
	if err != nil && !isNoRows(err) {
		return apperr.Wrap(err, "iam.EnsureBuiltins: catalog")
	}
	builtins, err := s.client.Permission.Query().Where(permission.BuiltIn(true)).All(ctx)
	if err != nil {
		return apperr.Wrap(err, "iam.EnsureBuiltins: load")
	}
	accounts, err := s.client.Account.Query().WithPermissions(func(q *ent.PermissionQuery) {
		q.Where(permission.BuiltIn(true))
	}).All(ctx)
	if err != nil {
		return apperr.Wrap(err, "iam.EnsureBuiltins: accounts")
	}
	for _, acc := range accounts {
		if len(acc.Edges.Permissions) == len(builtins) {
			continue
		}
		have := map[string]bool{}
		for _, p := range acc.Edges.Permissions {
			have[p.ID] = true
		}
		var add []string
		for _, p := range builtins {
			if !have[p.ID] {
				add = append(add, p.ID)
			}
		}
		if err := s.client.Account.UpdateOneID(acc.ID).AddPermissionIDs(add...).Exec(ctx); err != nil && !ent.IsConstraintError(err) {
			return apperr.Wrap(err, "iam.EnsureBuiltins: master list")
		}
	}
	return nil
}

// isNoRows reports ent's answer to an upsert that inserted nothing.
func isNoRows(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no rows in result set")
}

// DefinePermissions creates or updates catalog permissions by key (K1).
func (s *Service) DefinePermissions(ctx context.Context, in DefinePermissionsInput) ([]*ent.Permission, error) {
	if len(in.Permissions) == 0 {
		return nil, apperr.New(apperr.BadUserInput, "permissions must not be empty")
	}
	var bad []string
	seen := map[string]bool{}
	for _, p := range in.Permissions {
		switch {
		case !authz.ValidKey(p.Key):
			bad = append(bad, p.Key+" (malformed key)")
		case seen[p.Key]:
			bad = append(bad, p.Key+" (listed twice)")
		case strings.HasPrefix(p.Key, "iam."):
			bad = append(bad, p.Key+" (the iam. namespace is reserved for built-in permissions)")
		}
		seen[p.Key] = true
		for _, imp := range p.Implies {
			if !authz.ValidPattern(imp) {
				bad = append(bad, p.Key+" implies "+imp+" (malformed pattern)")
			}
		}
		if p.Kind != nil && *p.Kind == permission.KindDENY_MASK && len(p.Implies) > 0 {
			bad = append(bad, p.Key+" (a deny mask cannot imply permissions)")
		}
	}
	if len(bad) > 0 {
		return nil, apperr.New(apperr.BadUserInput, "invalid permissions: %s", strings.Join(bad, "; ")).
			With("invalid", bad)
	}
	var out []*ent.Permission
	err := s.inTx(ctx, "", func(tx *ent.Tx) error {
		out = out[:0]
		var changes []map[string]any
		for _, in := range in.Permissions {
			cur, err := tx.Permission.Query().Where(permission.Key(in.Key)).Only(ctx)
			if err != nil && !ent.IsNotFound(err) {
				return err
			}
			if cur == nil {
				c := tx.Permission.Create().SetKey(in.Key).SetImplies(nonNil(in.Implies))
				if in.Description != nil {
					c.SetDescription(*in.Description)
				}
				if in.Group != nil {
					c.SetGroup(*in.Group)
				}
				if in.Kind != nil {
					c.SetKind(*in.Kind)
				}
				p, err := c.Save(ctx)
				if err != nil {
					return err
				}
				out = append(out, p)
				changes = append(changes, map[string]any{"key": p.Key, "after": permissionView(p)})
				continue
			}
			if in.Kind != nil && *in.Kind != cur.Kind {
				return apperr.New(apperr.Conflict, "the kind of permission %q cannot change (it is %s)", cur.Key, cur.Kind)
			}
			u := cur.Update()
			if in.Description != nil {
				u.SetDescription(*in.Description)
			}
			if in.Group != nil {
				u.SetGroup(*in.Group)
			}
			if in.Implies != nil {
				u.SetImplies(in.Implies)
			}
			p, err := u.Save(ctx)
			if err != nil {
				return err
			}
			out = append(out, p)
			changes = append(changes, map[string]any{"key": p.Key, "before": permissionView(cur), "after": permissionView(p)})
		}
		// The target is the permissions defined, by id, in input order:
		// filtering the log by a permission's id finds its definitions.
		ids := make([]string, len(out))
		for i, p := range out {
			ids[i] = p.ID
		}
		return record(ctx, tx, event{Action: "permissions.defined", TargetType: "Permission", TargetID: strings.Join(ids, ","),
			Changes: map[string]any{"permissions": changes}})
	})
	if err != nil {
		return nil, err
	}
	forget(ctx, "") // implications may have changed for every account
	for i, p := range out {
		out[i] = p.Unwrap()
	}
	return out, nil
}

func permissionView(p *ent.Permission) map[string]any {
	return map[string]any{"description": p.Description, "group": p.Group, "kind": p.Kind, "implies": p.Implies}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// resolveCatalog expands keys and patterns against the catalog: each plain
// key must exist; each wildcard takes the GRANT keys it matches now. Unknown
// keys and patterns that match nothing are returned as bad.
func resolveCatalog(ctx context.Context, tx *ent.Tx, keys []string) (perms []*ent.Permission, bad []string, err error) {
	all, err := tx.Permission.Query().All(ctx)
	if err != nil {
		return nil, nil, err
	}
	byKey := make(map[string]*ent.Permission, len(all))
	for _, p := range all {
		byKey[p.Key] = p
	}
	picked := map[string]bool{}
	for _, k := range keys {
		switch {
		case !authz.ValidPattern(k):
			bad = append(bad, k+" (malformed)")
		case authz.IsWildcard(k):
			n := 0
			for _, p := range all {
				if p.Kind == permission.KindGRANT && authz.Match(k, p.Key) {
					picked[p.Key] = true
					n++
				}
			}
			if n == 0 {
				bad = append(bad, k+" (matches no catalog permission)")
			}
		case byKey[k] == nil:
			bad = append(bad, k+" (not in the catalog)")
		default:
			picked[k] = true
		}
	}
	for k := range picked {
		perms = append(perms, byKey[k])
	}
	slices.SortFunc(perms, func(a, b *ent.Permission) int { return strings.Compare(a.Key, b.Key) })
	return perms, bad, nil
}
