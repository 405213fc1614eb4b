package iam

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/apikey"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/ent/sodrule"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

// Violation is a separation-of-duty rule broken by roles, members or keys
// (V1). ROLE-level rules judge custom roles: system roles are locked and
// shaped by the master list and defaultAccessExcludes. MEMBER-level rules
// judge every member and key but the owners' (full_access holds everything by
// definition).
type Violation struct {
	Rule    *ent.SodRule
	Roles   []*ent.Role
	Members []*ent.Member
	Keys    []*ent.APIKey
}

func holdsAll(keys []string, perms []string) bool {
	for _, p := range perms {
		if _, ok := slices.BinarySearch(keys, p); !ok {
			return false
		}
	}
	return true
}

// violations evaluates rules against an account as client sees it. Invited
// members count as if active, so that accepting an invitation never breaks a
// rule. m is the account's model as client sees it, when known (nil: it is
// read).
func (s *Service) violations(ctx context.Context, client *ent.Client, accountID string, rules []*ent.SodRule, m *Model) ([]Violation, error) {
	if len(rules) == 0 {
		return nil, nil
	}
	if m == nil {
		var err error
		if m, err = s.loadModel(ctx, client, accountID); err != nil {
			return nil, err
		}
	}
	var keys []*ent.APIKey
	// Members and keys are judged by MEMBER-level rules only.
	if slices.ContainsFunc(rules, func(r *ent.SodRule) bool { return r.Level != sodrule.LevelROLE }) {
		var err error
		keys, err = client.APIKey.Query().Where(apikey.AccountID(accountID), apikey.RevokedAtIsNil(),
			apikey.Or(apikey.ExpiresAtIsNil(), apikey.ExpiresAtGT(time.Now()))).All(ctx)
		if err != nil {
			return nil, err
		}
	}
	// Members are judged from the model's table, once for each distinct set
	// of roles they hold: reading and compiling every member of the account
	// again took every change of an account with a MEMBER-level ENFORCE
	// rule as long as the account is large.
	judged := newSetJudge(m)
	owner := func(memberID string) bool {
		row, ok := m.members.get(memberID)
		return ok && judged.counts(row) && judged.owner(row.set)
	}
	var out []Violation
	for _, rule := range rules {
		v := Violation{Rule: rule}
		if rule.Level == sodrule.LevelROLE {
			for i, r := range m.Roles() {
				if r.Kind == role.KindCUSTOM && holdsAll(m.expansions()[i].Keys(), rule.Permissions) {
					v.Roles = append(v.Roles, r)
				}
			}
		} else {
			var ids []string
			for _, row := range m.members.rows {
				if judged.counts(row) && !judged.owner(row.set) && holdsAll(judged.permissions(row.set), rule.Permissions) {
					ids = append(ids, row.ID())
				}
			}
			var err error
			if v.Members, err = membersByID(ctx, client, ids); err != nil {
				return nil, err
			}
			for _, k := range keys {
				if owner(k.MemberID) {
					continue // an owner's key holds what its owner may
				}
				snap := m.Policy.Subject([]authz.Role{{Grants: k.Permissions, Exact: true}}).Permissions()
				if holdsAll(snap, rule.Permissions) {
					v.Keys = append(v.Keys, k)
				}
			}
		}
		if len(v.Roles)+len(v.Members)+len(v.Keys) > 0 {
			out = append(out, v)
		}
	}
	return out, nil
}

// setJudge tells what a model's members hold, computed once for each set
// of roles.
type setJudge struct {
	m      *Model
	owners map[int32]bool
	perms  map[int32][]string
}

func newSetJudge(m *Model) *setJudge {
	return &setJudge{m: m, owners: map[int32]bool{}, perms: map[int32][]string{}}
}

// counts reports whether a member is judged: invited members count as if
// active, so that accepting an invitation never breaks a rule.
func (j *setJudge) counts(row memberRow) bool {
	st := row.Status()
	return st == member.StatusACTIVE || st == member.StatusINVITED
}

// owner reports whether the set holds full_access.
func (j *setJudge) owner(set int32) bool {
	o, ok := j.owners[set]
	if !ok {
		o = slices.ContainsFunc(j.m.members.sets.at(set), func(i uint16) bool { return j.m.roles[i].isFullAccess() })
		j.owners[set] = o
	}
	return o
}

// permissions are the set's permissions.
func (j *setJudge) permissions(set int32) []string {
	p, ok := j.perms[set]
	if !ok {
		p = j.m.subjectOf(set).Permissions()
		j.perms[set] = p
	}
	return p
}

// membersByID reads members, in id order, in statements that stay under
// the databases' bind-parameter limits.
func membersByID(ctx context.Context, client *ent.Client, ids []string) ([]*ent.Member, error) {
	var out []*ent.Member
	for chunk := range slices.Chunk(ids, 10_000) {
		ms, err := client.Member.Query().Where(member.IDIn(chunk...)).Order(ent.Asc(member.FieldID)).All(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

// enforceSoD refuses a change that leaves the account breaking an ENFORCE
// rule. ENFORCE rules cannot be created while broken, so any violation found
// here comes from the change itself. next is the model the change leaves
// (nil when unknown): the rules it carries are used instead of read, and
// rules read are left with it for the account's next change.
func (s *Service) enforceSoD(ctx context.Context, tx *ent.Tx, accountID string, next *Model) error {
	var rules []*ent.SodRule
	if next != nil && next.enforced != nil {
		rules = next.enforced.rules
	} else {
		var err error
		if rules, err = tx.SodRule.Query().Where(sodrule.AccountID(accountID), sodrule.ModeEQ(sodrule.ModeENFORCE)).All(ctx); err != nil {
			return err
		}
		if next != nil {
			next.enforced = &enforcedRules{rules: rules}
		}
	}
	if len(rules) == 0 {
		return nil
	}
	vs, err := s.violations(ctx, tx.Client(), accountID, rules, next)
	if err != nil || len(vs) == 0 {
		return err
	}
	v := vs[0]
	var who []string
	for _, r := range v.Roles {
		who = append(who, "role "+r.Key)
	}
	for _, m := range v.Members {
		who = append(who, "member "+m.ID)
	}
	for _, k := range v.Keys {
		who = append(who, "API key "+k.ID)
	}
	return apperr.New(apperr.Conflict, "separation-of-duty rule %q forbids holding %s together: %s",
		v.Rule.Name, strings.Join(v.Rule.Permissions, " with "), strings.Join(who, ", ")).
		With("reason", "SOD_VIOLATION").With("rule", v.Rule.ID).With("violators", who)
}

// SodRules lists an account's rules.
func (s *Service) SodRules(ctx context.Context, accountID string) ([]*ent.SodRule, error) {
	rules, err := s.client.SodRule.Query().Where(sodrule.AccountID(accountID)).Order(ent.Asc(sodrule.FieldID)).All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.SodRules")
	}
	return rules, nil
}

// CreateSodRule creates a rule; an ENFORCE rule that the account already
// breaks is refused, naming the violators (V1).
func (s *Service) CreateSodRule(ctx context.Context, in CreateSodRuleInput) (*ent.SodRule, error) {
	in.Name = strings.TrimSpace(in.Name)
	perms := dedupe(in.Permissions)
	var bad []string
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 200 {
		bad = append(bad, "name must be 1–200 characters")
	}
	if len(perms) < 2 {
		bad = append(bad, "a rule needs at least two different permissions")
	}
	if len(bad) > 0 {
		return nil, badInput(bad)
	}
	slices.Sort(perms)
	var rule *ent.SodRule
	err := s.change(ctx, Ref{AccountID: in.AccountID}, "iam.sod.manage", func(c *Change) (err error) {
		tx := c.Tx
		c.Alters(touchSodRules)
		for _, p := range perms {
			if _, ok := c.Policy.Lookup(p); !ok {
				bad = append(bad, p+" is not a catalog permission")
			}
		}
		if len(bad) > 0 {
			return badInput(bad)
		}
		rule, err = tx.SodRule.Create().SetAccountID(in.AccountID).SetName(in.Name).SetPermissions(perms).
			SetLevel(in.Level).SetMode(in.Mode).Save(ctx)
		if err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: in.AccountID, Action: "sod_rule.created", TargetType: "SodRule", TargetID: rule.ID,
			Changes: map[string]any{"name": rule.Name, "permissions": perms, "level": rule.Level, "mode": rule.Mode}})
	})
	if err != nil {
		return nil, err
	}
	return rule.Unwrap(), nil
}

// DeleteSodRule deletes a rule.
func (s *Service) DeleteSodRule(ctx context.Context, in DeleteSodRuleInput) error {
	return s.change(ctx, Ref{SodRuleID: in.SodRuleID}, "iam.sod.manage", func(c *Change) error {
		tx := c.Tx
		c.Alters(touchSodRules)
		rule, err := tx.SodRule.Get(ctx, in.SodRuleID)
		if err != nil {
			return notFoundOr(err, "separation-of-duty rule", in.SodRuleID)
		}
		if err := tx.SodRule.DeleteOne(rule).Exec(ctx); err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: rule.AccountID, Action: "sod_rule.deleted", TargetType: "SodRule", TargetID: rule.ID,
			Changes: map[string]any{"name": rule.Name, "permissions": rule.Permissions, "level": rule.Level, "mode": rule.Mode}})
	})
}
