package iam

import (
	"context"
	stdsql "database/sql"
	"errors"
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

// Builtin is a permission that gates Gatehouse's own API (K7).
type Builtin struct {
	Key, Description string
	// Implies: the coarse `manage` keys imply the single actions they were
	// split into, so roles granting them keep working (K4).
	Implies []string
}

// Builtins are the permissions that gate Gatehouse's own API (K7). They are in
// the catalog and in every master list. Each command needs the finest one
// that names its action, so that a product permission ("creation of new
// agents") maps onto exactly that action.
var Builtins = []Builtin{
	{Key: "iam.permissions.read", Description: "Read the account's master list."},
	{Key: "iam.roles.read", Description: "Read the account's roles."},
	{Key: "iam.roles.manage", Description: "Create, change and delete custom roles."},
	{Key: "iam.members.read", Description: "Read the account's members."},
	{Key: "iam.members.manage", Description: "Every action on members: invite, assign roles, suspend, remove, transfer ownership.",
		Implies: []string{"iam.members.invite", "iam.members.roles.assign", "iam.members.suspend", "iam.members.remove", "iam.members.ownership.transfer"}},
	{Key: "iam.members.invite", Description: "Add members, ACTIVE or invited, with roles the adder holds (addMember)."},
	{Key: "iam.members.roles.assign", Description: "Change the roles members hold (setMemberRoles)."},
	{Key: "iam.members.suspend", Description: "Suspend and reactivate members."},
	{Key: "iam.members.remove", Description: "Remove members."},
	{Key: "iam.members.ownership.transfer", Description: "Transfer one's own ownership (full_access) to another member."},
	{Key: "iam.keys.read", Description: "Read the account's API keys and their permissions."},
	{Key: "iam.keys.manage", Description: "Every action on API keys: create, rename, revoke.",
		Implies: []string{"iam.keys.create", "iam.keys.revoke"}},
	{Key: "iam.keys.create", Description: "Create API keys within one's own permissions, and rename them."},
	{Key: "iam.keys.revoke", Description: "Revoke API keys."},
	{Key: "iam.scopes.manage", Description: "Create, change and delete API key scopes."},
	{Key: "iam.audit.read", Description: "Read and export the audit log."},
	{Key: "iam.reviews.read", Description: "Read access reviews."},
	{Key: "iam.sod.manage", Description: "Manage separation-of-duty rules."},
	{Key: "iam.account.manage", Description: "Change the account's name and settings."},
	{Key: "iam.authorize", Description: "Ask for decisions about other subjects."},
}

// builtinKeys returns the keys of Builtins.
func builtinKeys() []string {
	keys := make([]string, len(Builtins))
	for i, b := range Builtins {
		keys[i] = b.Key
	}
	return keys
}

// EnsureBuiltins puts this version's built-in permissions into the catalog
// and brings stored ones whose description or implications changed up to
// date (iam.members.manage implies the actions it was split into), with a
// platform audit event, so that every server's models follow. It runs at
// start-up and is safe on many servers at once. A built-in new to the
// catalog joins every master list in the same transaction: it is never in
// the catalog without being in all of them. It reads no master list
// otherwise — that takes seconds at ten thousand accounts, and would delay
// every start; CompleteMasterLists runs once the server serves.
func (s *Service) EnsureBuiltins(ctx context.Context) error {
	stale := func(p *ent.Permission, b Builtin) bool {
		return p.Description != b.Description || !slices.Equal(p.Implies, nonNil(b.Implies))
	}
	err := s.inTx(ctx, "", func(tx *ent.Tx) error {
		stored, err := tx.Permission.Query().Where(permission.BuiltIn(true)).All(ctx)
		if err != nil {
			return err
		}
		var creates []*ent.PermissionCreate
		var changes []map[string]any
		for _, b := range Builtins {
			i := slices.IndexFunc(stored, func(p *ent.Permission) bool { return p.Key == b.Key })
			switch {
			case i < 0:
				creates = append(creates, tx.Permission.Create().
					SetKey(b.Key).SetDescription(b.Description).SetGroup(builtinGroup).
					SetKind(permission.KindGRANT).SetBuiltIn(true).SetImplies(nonNil(b.Implies)))
			case stale(stored[i], b):
				p, err := stored[i].Update().SetDescription(b.Description).SetImplies(nonNil(b.Implies)).Save(ctx)
				if err != nil {
					return err
				}
				changes = append(changes, map[string]any{"key": p.Key, "before": permissionView(stored[i]), "after": permissionView(p)})
			}
		}
		var added int64
		if len(creates) > 0 {
			err := tx.Permission.CreateBulk(creates...).OnConflict(sql.ConflictColumns(permission.FieldKey)).DoNothing().Exec(ctx)
			if err != nil && !isNoRows(err) {
				return err
			}
			if added, err = completeMasterLists(ctx, tx); err != nil {
				return err
			}
		}
		if len(changes) == 0 && added == 0 {
			return nil
		}
		return record(ctx, tx, builtinsUpdated(changes, added))
	})
	if err != nil {
		return apperr.Wrap(err, "iam.EnsureBuiltins")
	}
	return nil
}

// CompleteMasterLists puts every built-in into every master list that lacks
// one: an account created by an older server after a newer one added a
// built-in (K7). It reads every master list, so servers run it once they
// serve, not before; what it adds is recorded like EnsureBuiltins' changes.
func (s *Service) CompleteMasterLists(ctx context.Context) error {
	// A read first, with no lock: almost always nothing is missing. What
	// is missing is added with its event, under the platform lock, which
	// holds every account's changes meanwhile.
	var missing bool
	rows, err := s.client.QueryContext(ctx, `SELECT EXISTS (`+missingBuiltins+`)`)
	if err == nil {
		if rows.Next() {
			err = rows.Scan(&missing)
		}
		err = errors.Join(err, rows.Err(), rows.Close())
	}
	if err == nil && missing {
		err = s.inTx(ctx, "", func(tx *ent.Tx) error {
			added, err := completeMasterLists(ctx, tx)
			if err != nil || added == 0 {
				return err
			}
			return record(ctx, tx, builtinsUpdated(nil, added))
		})
	}
	if err != nil {
		return apperr.Wrap(err, "iam.CompleteMasterLists")
	}
	return nil
}

// builtinsUpdated is the platform's event for built-ins brought up to date
// (changes) and added to master lists (added): both EnsureBuiltins and
// CompleteMasterLists record it, and every server's models follow it.
func builtinsUpdated(changes []map[string]any, added int64) event {
	return event{Action: "permissions.builtins.updated", TargetType: "Permission",
		Changes: map[string]any{"permissions": changes, "addedToMasterLists": added}}
}

// missingBuiltins selects (account, built-in) for each built-in missing from
// a master list.
const missingBuiltins = `SELECT a.id, p.id FROM accounts a CROSS JOIN permissions p
WHERE p.built_in AND NOT EXISTS (SELECT 1 FROM account_permissions ap WHERE ap.account_id = a.id AND ap.permission_id = p.id)`

// completeMasterLists adds the missing built-ins to every master list in one
// statement, under the platform lock, and returns how many it added.
func completeMasterLists(ctx context.Context, db interface {
	ExecContext(ctx context.Context, query string, args ...any) (stdsql.Result, error)
}) (int64, error) {
	res, err := db.ExecContext(ctx, `INSERT INTO account_permissions (account_id, permission_id) `+missingBuiltins)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
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
			if unchanged(cur, in) {
				out = append(out, cur)
				continue
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
		if len(changes) == 0 {
			return nil // defined as they are: not a change, so no event (and no platform-wide invalidation)
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

// unchanged reports whether defining in leaves cur as it is.
func unchanged(cur *ent.Permission, in *PermissionInput) bool {
	return (in.Description == nil || *in.Description == cur.Description) &&
		(in.Group == nil || *in.Group == cur.Group) &&
		(in.Implies == nil || slices.Equal(in.Implies, cur.Implies))
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
