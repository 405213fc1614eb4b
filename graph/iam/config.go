package iam

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/ent/scope"
	"github.com/gatehouse-iam/gatehouse/ent/sodrule"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// AccessConfig is an account's access as one document (C1): what onboarding
// scripts keep in version control. The master list and plan features are the
// operator's and are not part of it; API keys are not either (secrets).
type AccessConfig struct {
	Settings ConfigSettings `json:"settings"`
	Roles    []ConfigRole   `json:"roles"`
	Scopes   []ConfigScope  `json:"scopes"`
	Members  []ConfigMember `json:"members"`
	SodRules []ConfigRule   `json:"sodRules"`

	// present names the sections and settings a parsed document gives: what
	// it leaves out, applying it leaves alone (nil: everything is given).
	present map[string]bool
}

// given reports whether the document gives a section ("roles") or a setting
// ("settings.roleAssignment").
func (c *AccessConfig) given(name string) bool { return c.present == nil || c.present[name] }

// ConfigSettings are the account's settings (A2, M2). A document without
// newMemberRoles or minRolesPerMember (written before they existed) leaves
// them as they are.
type ConfigSettings struct {
	RoleAssignment        account.RoleAssignment `json:"roleAssignment"`
	DefaultAccessExcludes []string               `json:"defaultAccessExcludes"`
	NewMemberRoles        []string               `json:"newMemberRoles"`
	MinRolesPerMember     *int                   `json:"minRolesPerMember"`
}

// ConfigRole is a custom role; system roles are not configurable.
type ConfigRole struct {
	Key         string              `json:"key"`
	Name        string              `json:"name"`
	Description string              `json:"description"`
	Grants      []string            `json:"grants"`
	Constraints map[string][]string `json:"constraints,omitempty"`
}

// ConfigScope is an API key scope.
type ConfigScope struct {
	Key         string   `json:"key"`
	Description string   `json:"description"`
	Grants      []string `json:"grants"`
}

// ConfigMember is a member by email, with role keys.
type ConfigMember struct {
	Email  string        `json:"email"`
	Name   string        `json:"name"`
	Roles  []string      `json:"roles"`
	Status member.Status `json:"status"`
}

// ConfigRule is a separation-of-duty rule, by name.
type ConfigRule struct {
	Name        string        `json:"name"`
	Permissions []string      `json:"permissions"`
	Level       sodrule.Level `json:"level"`
	Mode        sodrule.Mode  `json:"mode"`
}

// PlanStep is one change applyAccessConfig makes.
type PlanStep struct {
	Kind    string         `json:"kind"`   // SETTINGS, ROLE, SCOPE, MEMBER, SOD_RULE
	Key     string         `json:"key"`    // role or scope key, email, rule name
	Action  string         `json:"action"` // CREATE, UPDATE, DELETE
	Changes map[string]any `json:"changes,omitempty"`
}

// ExportAccessConfig returns an account's access as a document.
func (s *Service) ExportAccessConfig(ctx context.Context, accountID string) (*AccessConfig, error) {
	if _, err := s.Require(ctx, accountID, "iam.account.manage"); err != nil {
		return nil, err
	}
	return current(ctx, s.client, accountID)
}

// current reads the document's view of an account through client.
func current(ctx context.Context, c *ent.Client, accountID string) (*AccessConfig, error) {
	acc, err := c.Account.Get(ctx, accountID)
	if err != nil {
		return nil, notFoundOr(err, "account", accountID)
	}
	cfg := &AccessConfig{
		Settings: ConfigSettings{RoleAssignment: acc.RoleAssignment, DefaultAccessExcludes: nonNil(acc.DefaultAccessExcludes),
			NewMemberRoles: NewMemberRoles(acc), MinRolesPerMember: &acc.MinRolesPerMember},
		Roles: []ConfigRole{}, Scopes: []ConfigScope{}, Members: []ConfigMember{}, SodRules: []ConfigRule{},
	}
	roles, err := c.Role.Query().Where(role.AccountID(accountID)).Order(ent.Asc(role.FieldPosition), ent.Asc(role.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	keyOf := map[string]string{}
	for _, r := range roles {
		keyOf[r.ID] = r.Key
		if r.Kind == role.KindCUSTOM {
			cfg.Roles = append(cfg.Roles, ConfigRole{Key: r.Key, Name: r.Name, Description: r.Description,
				Grants: nonNil(r.Grants), Constraints: emptyToNil(r.Constraints)})
		}
	}
	scopes, err := c.Scope.Query().Where(scope.AccountID(accountID)).Order(ent.Asc(scope.FieldKey)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, sc := range scopes {
		cfg.Scopes = append(cfg.Scopes, ConfigScope{Key: sc.Key, Description: sc.Description, Grants: nonNil(sc.Grants)})
	}
	members, err := membersWithAssignments(ctx,
		c.Member.Query().Where(member.AccountID(accountID), member.StatusNEQ(member.StatusREMOVED)), c.Assignment, accountID)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		keys := []string{}
		for _, a := range m.Edges.Assignments {
			keys = append(keys, keyOf[a.RoleID])
		}
		slices.Sort(keys)
		cfg.Members = append(cfg.Members, ConfigMember{Email: m.Email, Name: m.Name, Roles: keys, Status: m.Status})
	}
	slices.SortFunc(cfg.Members, func(a, b ConfigMember) int { return strings.Compare(a.Email, b.Email) })
	rules, err := c.SodRule.Query().Where(sodrule.AccountID(accountID)).Order(ent.Asc(sodrule.FieldName)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		cfg.SodRules = append(cfg.SodRules, ConfigRule{Name: r.Name, Permissions: r.Permissions, Level: r.Level, Mode: r.Mode})
	}
	return cfg, nil
}

func emptyToNil(m map[string][]string) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// ParseAccessConfig reads a document strictly: unknown fields, duplicate
// keys and bad values are BAD_USER_INPUT.
func ParseAccessConfig(doc map[string]any) (*AccessConfig, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, apperr.New(apperr.BadUserInput, "the document is not JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var cfg AccessConfig
	if err := dec.Decode(&cfg); err != nil {
		return nil, apperr.New(apperr.BadUserInput, "invalid document: %v", err)
	}
	cfg.present = map[string]bool{}
	for k, v := range doc {
		cfg.present[k] = v != nil
	}
	if settings, ok := doc["settings"].(map[string]any); ok {
		for k, v := range settings {
			cfg.present["settings."+k] = v != nil
		}
	}
	var bad []string
	dup := func(kind string, keys []string) {
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				bad = append(bad, fmt.Sprintf("%s %q is listed twice", kind, k))
			}
			seen[k] = true
		}
	}
	var rk, sk, em, rn []string
	for i, r := range cfg.Roles {
		rk = append(rk, r.Key)
		if !roleKeyRE.MatchString(r.Key) || strings.TrimSpace(r.Name) == "" {
			bad = append(bad, fmt.Sprintf("role %q needs a key of lower-case letters, digits, _ and -, and a name", r.Key))
		}
		if r.Key == FullAccess || r.Key == DefaultAccess {
			bad = append(bad, "system role "+r.Key+" is not configurable")
		}
		cfg.Roles[i].Grants = nonNil(r.Grants)
	}
	for i, sc := range cfg.Scopes {
		sk = append(sk, sc.Key)
		if !roleKeyRE.MatchString(sc.Key) {
			bad = append(bad, fmt.Sprintf("scope key %q is malformed", sc.Key))
		}
		cfg.Scopes[i].Grants = nonNil(sc.Grants)
	}
	for i, m := range cfg.Members {
		email, err := normalizeEmail(m.Email)
		if err != nil {
			bad = append(bad, err.Error())
		}
		cfg.Members[i].Email = email
		em = append(em, email)
		if m.Status == "" {
			cfg.Members[i].Status = member.StatusACTIVE
		} else if m.Status == member.StatusREMOVED || member.StatusValidator(m.Status) != nil {
			bad = append(bad, fmt.Sprintf("member %s: status must be ACTIVE, INVITED or SUSPENDED", email))
		}
		cfg.Members[i].Roles = nonNil(m.Roles)
		slices.Sort(cfg.Members[i].Roles)
	}
	for i, r := range cfg.SodRules {
		rn = append(rn, r.Name)
		if sodrule.LevelValidator(r.Level) != nil || sodrule.ModeValidator(r.Mode) != nil || len(dedupe(r.Permissions)) < 2 {
			bad = append(bad, fmt.Sprintf("rule %q needs a level, a mode and two permissions", r.Name))
		}
		perms := dedupe(r.Permissions)
		slices.Sort(perms)
		cfg.SodRules[i].Permissions = perms
	}
	if cfg.Settings.RoleAssignment != "" && account.RoleAssignmentValidator(cfg.Settings.RoleAssignment) != nil {
		bad = append(bad, "settings.roleAssignment must be SINGLE or MULTIPLE")
	}
	bad = append(bad, badPatterns("settings.defaultAccessExcludes", cfg.Settings.DefaultAccessExcludes)...)
	if m := cfg.Settings.MinRolesPerMember; m != nil && (*m < 0 || *m > MaxMinRoles) {
		bad = append(bad, fmt.Sprintf("settings.minRolesPerMember must be 0–%d", MaxMinRoles))
	}
	if cfg.Settings.NewMemberRoles != nil {
		cfg.Settings.NewMemberRoles = dedupe(cfg.Settings.NewMemberRoles)
	}
	dup("role", rk)
	dup("scope", sk)
	dup("member", em)
	dup("rule", rn)
	if len(bad) > 0 {
		return nil, badInput(bad)
	}
	return &cfg, nil
}

// plan compares the desired document with the current one. Sections the
// document leaves out are left alone, and so are settings it leaves out (want
// takes their current values). Objects a given section leaves out are deleted
// only with prune; otherwise they are returned as kept.
func plan(cur, want *AccessConfig, prune bool) (steps, kept []PlanStep) {
	if !want.given("settings.roleAssignment") || want.Settings.RoleAssignment == "" {
		want.Settings.RoleAssignment = cur.Settings.RoleAssignment
	}
	if !want.given("settings.defaultAccessExcludes") {
		want.Settings.DefaultAccessExcludes = cur.Settings.DefaultAccessExcludes
	}
	if want.Settings.NewMemberRoles == nil {
		want.Settings.NewMemberRoles = cur.Settings.NewMemberRoles
	}
	if want.Settings.MinRolesPerMember == nil {
		want.Settings.MinRolesPerMember = cur.Settings.MinRolesPerMember
	}
	steps = []PlanStep{}
	if !slices.Equal(cur.Settings.DefaultAccessExcludes, want.Settings.DefaultAccessExcludes) ||
		cur.Settings.RoleAssignment != want.Settings.RoleAssignment ||
		!slices.Equal(cur.Settings.NewMemberRoles, want.Settings.NewMemberRoles) ||
		*cur.Settings.MinRolesPerMember != *want.Settings.MinRolesPerMember {
		steps = append(steps, PlanStep{Kind: "SETTINGS", Key: "settings", Action: "UPDATE", Changes: diff(cur.Settings, want.Settings)})
	}
	kept = []PlanStep{}
	add := func(s, k []PlanStep) {
		steps, kept = append(steps, s...), append(kept, k...)
	}
	if want.given("roles") {
		add(planOf("ROLE", cur.Roles, want.Roles, func(r ConfigRole) string { return r.Key }, prune))
	}
	if want.given("scopes") {
		add(planOf("SCOPE", cur.Scopes, want.Scopes, func(s ConfigScope) string { return s.Key }, prune))
	}
	if want.given("members") {
		add(planOf("MEMBER", cur.Members, want.Members, func(m ConfigMember) string { return m.Email }, prune))
	}
	if want.given("sodRules") {
		add(planOf("SOD_RULE", cur.SodRules, want.SodRules, func(r ConfigRule) string { return r.Name }, prune))
	}
	return steps, kept
}

// planOf diffs two lists of one kind by key: CREATE, UPDATE, and DELETE —
// or, without prune, KEEP for what want leaves out.
func planOf[T any](kind string, cur, want []T, key func(T) string, prune bool) (steps, kept []PlanStep) {
	have := map[string]T{}
	for _, c := range cur {
		have[key(c)] = c
	}
	for _, w := range want {
		c, ok := have[key(w)]
		switch {
		case !ok:
			steps = append(steps, PlanStep{Kind: kind, Key: key(w), Action: "CREATE", Changes: map[string]any{"after": w}})
		case !sameJSON(c, w):
			steps = append(steps, PlanStep{Kind: kind, Key: key(w), Action: "UPDATE", Changes: diff(c, w)})
		}
		delete(have, key(w))
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		st := PlanStep{Kind: kind, Key: k, Action: "DELETE", Changes: map[string]any{"before": have[k]}}
		if prune {
			steps = append(steps, st)
		} else {
			st.Action = "KEEP"
			kept = append(kept, st)
		}
	}
	return steps, kept
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
