package iam

import (
	"context"
	"errors"
	"slices"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/ent/scope"
	"github.com/gatehouse-iam/gatehouse/ent/sodrule"
	"github.com/gatehouse-iam/gatehouse/ent/user"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// ApplyAccessConfigInput applies a document (C1).
type ApplyAccessConfigInput struct {
	Why
	AccountID string         `json:"accountId"`
	Document  map[string]any `json:"document"`
	DryRun    *bool          `json:"dryRun"`
	// Prune deletes the objects a given section leaves out; without it they
	// are kept (and reported as such).
	Prune *bool `json:"prune"`
}

// Applied is what ApplyAccessConfig did or, for a dry run, would do.
type Applied struct {
	// Plan is the changes, in the order they apply.
	Plan []PlanStep
	// Kept is what the document's sections leave out and, without prune,
	// stays (action KEEP).
	Kept []PlanStep
}

// Target implements Targeted.
func (in ApplyAccessConfigInput) Target() Ref { return Ref{AccountID: in.AccountID} }

// kindPermission is what each kind of step needs besides iam.account.manage;
// member steps need what the member commands need (stepPermissions).
var kindPermission = map[string]string{
	"ROLE": "iam.roles.manage", "SCOPE": "iam.scopes.manage", "SOD_RULE": "iam.sod.manage",
}

// stepPermissions is what a step needs besides iam.account.manage: the
// permissions of the commands that would make the same change.
func stepPermissions(st PlanStep) []string {
	if st.Kind != "MEMBER" {
		if p := kindPermission[st.Kind]; p != "" {
			return []string{p}
		}
		return nil
	}
	switch st.Action {
	case "CREATE":
		return []string{"iam.members.invite"}
	case "DELETE":
		return []string{"iam.members.remove"}
	}
	before, _ := st.Changes["before"].(ConfigMember)
	after, _ := st.Changes["after"].(ConfigMember)
	var need []string
	if !slices.Equal(before.Roles, after.Roles) {
		need = append(need, "iam.members.roles.assign")
	}
	if before.Status != after.Status {
		need = append(need, "iam.members.suspend")
	}
	if len(need) == 0 { // the user's name only
		need = append(need, "iam.members.invite")
	}
	return need
}

// ApplyAccessConfig makes an account match a document: it plans the
// creations, updates and deletions and, unless dryRun, applies them in one
// transaction with one audit event. What the document leaves out is left
// alone: absent sections and settings, and — unless prune — the objects a
// given section does not list (reported as kept). A dry run executes the plan
// too and rolls it back, so that it finds exactly the refusals a real apply
// would. Applying the same document twice yields an empty plan, and an empty
// plan writes nothing.
func (s *Service) ApplyAccessConfig(ctx context.Context, in ApplyAccessConfigInput) (*Applied, error) {
	want, err := ParseAccessConfig(in.Document)
	if err != nil {
		return nil, err
	}
	dry := in.DryRun != nil && *in.DryRun
	run := s.change
	if dry {
		run = s.preview
	}
	var steps, kept []PlanStep
	err = run(ctx, Ref{AccountID: in.AccountID}, "iam.account.manage", func(c *Change) error {
		tx, a := c.Tx, c.Access
		cur, err := current(ctx, tx.Client(), in.AccountID)
		if err != nil {
			return err
		}
		steps, kept = plan(cur, want, in.Prune != nil && *in.Prune)
		if len(steps) == 0 {
			return nil // nothing to change, and no event to write
		}
		for _, st := range steps {
			for _, p := range stepPermissions(st) {
				if !a.Has(p) {
					return apperr.Missing("this document", []string{p})
				}
			}
		}
		ap := &applier{ctx: ctx, tx: tx, a: a, accountID: in.AccountID, want: want}
		if err := ap.apply(steps); err != nil {
			return err
		}
		if dry { // a real apply meets these at commit (inTx)
			if err := s.enforceSoD(ctx, tx, in.AccountID, nil); err != nil {
				return err
			}
		}
		return record(ctx, tx, event{AccountID: in.AccountID, Action: "access_config.applied", TargetType: "Account",
			TargetID: in.AccountID, Changes: map[string]any{"plan": steps}})
	})
	if err != nil {
		return nil, err
	}
	return &Applied{Plan: steps, Kept: kept}, nil
}

// applier carries out a plan in one transaction.
type applier struct {
	ctx       context.Context
	tx        *ent.Tx
	a         *Access
	accountID string
	want      *AccessConfig
}

// apply runs the steps in an order that keeps references valid: settings,
// roles and scopes first, then members, then deletions of what members no
// longer hold, then rules; owners (M3) and SINGLE accounts are checked last.
func (ap *applier) apply(steps []PlanStep) error {
	phase := func(kind, action string, fn func(PlanStep) error) error {
		for _, st := range steps {
			if st.Kind == kind && (action == "" || st.Action == action) {
				if err := fn(st); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, p := range []struct {
		kind, action string
		fn           func(PlanStep) error
	}{
		{"SETTINGS", "", ap.settings},
		{"ROLE", "CREATE", ap.role}, {"ROLE", "UPDATE", ap.role},
		{"SCOPE", "", ap.scope},
		{"MEMBER", "CREATE", ap.member}, {"MEMBER", "UPDATE", ap.member},
		{"ROLE", "DELETE", ap.role}, {"MEMBER", "DELETE", ap.member},
		{"SOD_RULE", "", ap.rule},
	} {
		if err := phase(p.kind, p.action, p.fn); err != nil {
			return err
		}
	}
	if ap.want.Settings.RoleAssignment == account.RoleAssignmentSINGLE {
		if err := checkSingle(ap.ctx, ap.tx, ap.accountID); err != nil {
			return err
		}
	}
	// The roles the settings name exist now; members hold enough of them.
	st := ap.want.Settings
	if err := checkRoleSettings(ap.ctx, ap.tx, ap.accountID, st.RoleAssignment, st.NewMemberRoles, *st.MinRolesPerMember); err != nil {
		return err
	}
	if err := checkMinRoles(ap.ctx, ap.tx, ap.accountID, *st.MinRolesPerMember); err != nil {
		return err
	}
	return keepOwner(ap.ctx, ap.tx, ap.accountID)
}

func (ap *applier) settings(PlanStep) error {
	acc, err := ap.tx.Account.Get(ap.ctx, ap.accountID)
	if err != nil {
		return err
	}
	st := ap.want.Settings
	if err := ap.a.checkGrants("widening default_access", widened(ap.a.Model, acc.DefaultAccessExcludes, st.DefaultAccessExcludes)); err != nil {
		return err
	}
	return acc.Update().SetRoleAssignment(st.RoleAssignment).SetDefaultAccessExcludes(st.DefaultAccessExcludes).
		SetNewMemberRoles(st.NewMemberRoles).SetMinRolesPerMember(*st.MinRolesPerMember).Exec(ap.ctx)
}

func (ap *applier) role(st PlanStep) error {
	ctx, tx, a := ap.ctx, ap.tx, ap.a
	cur, err := tx.Role.Query().Where(role.AccountID(ap.accountID), role.Key(st.Key)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return err
	}
	if st.Action == "DELETE" {
		if cur.Kind == role.KindSYSTEM {
			return apperr.New(apperr.Forbidden, "system role %q cannot be deleted", cur.Key).With("reason", "SYSTEM_ROLE")
		}
		if slices.Contains(ap.want.Settings.NewMemberRoles, cur.Key) {
			return keepNewMemberRole(&ent.Account{NewMemberRoles: ap.want.Settings.NewMemberRoles}, cur.Key)
		}
		if n, err := tx.Assignment.Query().Where(assignment.RoleID(cur.ID)).Count(ctx); err != nil {
			return err
		} else if n > 0 {
			return apperr.New(apperr.Conflict, "%d members still hold role %q, which the document deletes", n, cur.Key).
				With("reason", "ROLE_HELD").With("holders", n)
		}
		return tx.Role.DeleteOne(cur).Exec(ctx)
	}
	w := ap.want.Roles[slices.IndexFunc(ap.want.Roles, func(r ConfigRole) bool { return r.Key == st.Key })]
	if err := customRoles(a); err != nil {
		return err
	}
	if len(w.Constraints) > 0 {
		if err := requireFeature(a.Account.ResourceConstraints, "resourceConstraints"); err != nil {
			return err
		}
	}
	var old []string
	if cur != nil {
		old = cur.Grants
		if cur.Kind == role.KindSYSTEM {
			return apperr.New(apperr.Forbidden, "system role %q cannot be changed", cur.Key).With("reason", "SYSTEM_ROLE")
		}
	}
	added := slices.DeleteFunc(slices.Clone(w.Grants), func(g string) bool { return slices.Contains(old, g) })
	removed := slices.DeleteFunc(slices.Clone(old), func(g string) bool { return slices.Contains(w.Grants, g) })
	if err := a.checkGrantInput(added); err != nil {
		return err
	}
	if masks := a.masksIn(removed); len(masks) > 0 && !a.Operator {
		return apperr.New(apperr.Forbidden, "only the operator takes deny masks off roles").With("reason", "DENY_MASK")
	}
	if err := a.checkGrants("granting these permissions", added); err != nil {
		return err
	}
	if cur == nil {
		pos, err := tx.Role.Query().Where(role.AccountID(ap.accountID)).Count(ctx)
		if err != nil {
			return err
		}
		return tx.Role.Create().SetAccountID(ap.accountID).SetKey(w.Key).SetName(w.Name).SetDescription(w.Description).
			SetKind(role.KindCUSTOM).SetGrants(w.Grants).SetConstraints(emptyMap(w.Constraints)).SetPosition(pos).Exec(ctx)
	}
	if !narrower(emptyMap(w.Constraints), cur.Constraints) {
		if err := a.checkGrants("loosening the role's constraints", w.Grants); err != nil {
			return err
		}
	}
	return cur.Update().SetName(w.Name).SetDescription(w.Description).SetGrants(w.Grants).
		SetConstraints(emptyMap(w.Constraints)).AddVersion(1).Exec(ctx)
}

func emptyMap(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}

func (ap *applier) scope(st PlanStep) error {
	ctx, tx := ap.ctx, ap.tx
	q := tx.Scope.Query().Where(scope.AccountID(ap.accountID), scope.Key(st.Key))
	if st.Action == "DELETE" {
		_, err := tx.Scope.Delete().Where(scope.AccountID(ap.accountID), scope.Key(st.Key)).Exec(ctx)
		return err
	}
	w := ap.want.Scopes[slices.IndexFunc(ap.want.Scopes, func(s ConfigScope) bool { return s.Key == st.Key })]
	if err := ap.a.checkScopeGrants(w.Grants); err != nil {
		return err
	}
	if st.Action == "CREATE" {
		return tx.Scope.Create().SetAccountID(ap.accountID).SetKey(w.Key).SetDescription(w.Description).SetGrants(w.Grants).Exec(ctx)
	}
	cur, err := q.Only(ctx)
	if err != nil {
		return err
	}
	return cur.Update().SetDescription(w.Description).SetGrants(w.Grants).Exec(ctx)
}

func (ap *applier) member(st PlanStep) error {
	ctx, tx, a := ap.ctx, ap.tx, ap.a
	u, err := tx.User.Query().Where(user.Email(st.Key)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return err
	}
	var cur *ent.Member
	var held []*ent.Role
	if u != nil {
		cur, err = tx.Member.Query().Where(member.AccountID(ap.accountID), member.UserID(u.ID)).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if cur != nil {
			if held, err = rolesOf(ctx, tx, cur.ID); err != nil {
				return err
			}
		}
	}
	if st.Action == "DELETE" {
		if err := a.checkMember("removing this member", held); err != nil {
			return err
		}
		if err := cur.Update().SetStatus(member.StatusREMOVED).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.Assignment.Delete().Where(assignment.MemberID(cur.ID)).Exec(ctx); err != nil {
			return err
		}
		_, err := revokeKeysOf(ctx, tx, cur.ID)
		return err
	}
	w := ap.want.Members[slices.IndexFunc(ap.want.Members, func(m ConfigMember) bool { return m.Email == st.Key })]
	roles, err := resolveRoles(ctx, tx, ap.accountID, nil, w.Roles)
	if err != nil {
		return apperr.New(apperr.BadUserInput, "member %s: %v", w.Email, err)
	}
	settings := &ent.Account{RoleAssignment: ap.want.Settings.RoleAssignment, MinRolesPerMember: *ap.want.Settings.MinRolesPerMember}
	if err := checkCount(settings, roles); err != nil {
		var e *apperr.Error
		if errors.As(err, &e) {
			return e.With("member", w.Email)
		}
		return err
	}
	added := slices.DeleteFunc(slices.Clone(roles), func(r *ent.Role) bool { return containsRole(held, r) })
	if err := a.checkRoles("assigning these roles", added); err != nil {
		return err
	}
	if u == nil {
		if u, err = upsertUser(ctx, tx, w.Email, w.Name); err != nil {
			return err
		}
	}
	switch {
	case cur == nil:
		if cur, err = newMember(tx, ap.accountID, u).SetStatus(w.Status).Save(ctx); err != nil {
			return err
		}
	case cur.Status != w.Status || len(added) > 0 || len(held) != len(roles):
		if err := a.checkMember("changing this member", held); err != nil {
			return err
		}
		if err := cur.Update().SetStatus(w.Status).Exec(ctx); err != nil {
			return err
		}
	}
	if w.Name != "" && u.Name != w.Name {
		if err := renameUser(ctx, tx, u, w.Name); err != nil {
			return err
		}
	}
	return replaceRoles(ctx, tx, ap.accountID, cur.ID, held, roles)
}

func (ap *applier) rule(st PlanStep) error {
	ctx, tx := ap.ctx, ap.tx
	if st.Action != "CREATE" { // rules are immutable: an update replaces the rule
		if _, err := tx.SodRule.Delete().Where(sodrule.AccountID(ap.accountID), sodrule.Name(st.Key)).Exec(ctx); err != nil {
			return err
		}
		if st.Action == "DELETE" {
			return nil
		}
	}
	w := ap.want.SodRules[slices.IndexFunc(ap.want.SodRules, func(r ConfigRule) bool { return r.Name == st.Key })]
	for _, p := range w.Permissions {
		if _, ok := ap.a.Policy.Lookup(p); !ok {
			return apperr.New(apperr.BadUserInput, "rule %q: %s is not a catalog permission", w.Name, p)
		}
	}
	return tx.SodRule.Create().SetAccountID(ap.accountID).SetName(w.Name).SetPermissions(w.Permissions).
		SetLevel(w.Level).SetMode(w.Mode).Exec(ctx)
}
