// Package templates holds the account templates shipped with Gatehouse (A5):
// data files, embedded in the binary, that bring a product's catalog entries
// (keys, groups, descriptions, implications), its roles (locked system roles or
// editable defaults), its API key scopes, settings, features and a few demo
// members.
package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

//go:embed data/*.json
var files embed.FS

// Template is one product's starting point for an account.
type Template struct {
	// Name is the template's name, e.g. "truora".
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Source      string       `json:"source"`
	Permissions []Permission `json:"permissions"`
	// Master are the master-list keys and patterns an account starts with
	// (patterns are expanded against the catalog); empty means every
	// permission of the template but those in OnRequest.
	Master []string `json:"master,omitempty"`
	// OnRequest are catalog entries the template brings but leaves out of
	// the master list: the operator adds them when a customer asks
	// (Truora's truora.roles, "not enabled by default").
	OnRequest []string `json:"onRequest,omitempty"`
	// System are the system roles an account from the template has, in the
	// product's words: full_access, the owner role, always (True Record's
	// Owner, Truthlocks' Tenant Admin); default_access only where the product
	// has such a role (Truora's, for non-administrators).
	System   map[string]RoleText `json:"systemRoles"`
	Settings Settings            `json:"settings"`
	Features Features            `json:"features"`
	// Roles are listed after full_access and before default_access, in
	// this order (True Record's levels); locked ones are system roles too.
	Roles  []Role  `json:"roles"`
	Scopes []Scope `json:"scopes"`
	// Demo are members `gatehouse serve --demo` adds to its demo account.
	Demo []Member `json:"demo"`
}

// Permission is a catalog entry the template brings (K1).
type Permission struct {
	Key         string   `json:"key"`
	Description string   `json:"description"`
	Group       string   `json:"group"`
	Kind        string   `json:"kind,omitempty"` // GRANT (default) or DENY_MASK
	Implies     []string `json:"implies,omitempty"`
}

// Settings are the account settings the template starts with (A2, M2).
type Settings struct {
	RoleAssignment        string   `json:"roleAssignment"`
	DefaultAccessExcludes []string `json:"defaultAccessExcludes"`
	// NewMemberRoles are the roles a member added without roles receives:
	// Truora's default_access; none elsewhere (least privilege).
	NewMemberRoles []string `json:"newMemberRoles"`
	// MinRolesPerMember refuses role lists shorter than this (Convrs: "Each
	// agent is assigned one or more roles").
	MinRolesPerMember int `json:"minRolesPerMember"`
}

// Features are the plan features the template starts with (A3).
type Features struct {
	CustomRoles         bool `json:"customRoles"`
	ResourceConstraints bool `json:"resourceConstraints"`
	// CustomRolesPermission, when set, is a permission that must also be in
	// the master list for custom roles (Truora's truora.roles, "not enabled
	// by default").
	CustomRolesPermission string `json:"customRolesPermission,omitempty"`
}

// RoleText is a system role's name and description in a product's words.
type RoleText struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// HasSystemRole reports whether accounts from the template have the system
// role key; accounts without a template (t nil) have both.
func (t *Template) HasSystemRole(key string) bool {
	if t == nil {
		return key == fullAccess || key == defaultAccess
	}
	_, ok := t.System[key]
	return ok
}

// SystemRole is how the template names the system role key (full_access or
// default_access), or def when it does not, or when t is nil.
func (t *Template) SystemRole(key string, def RoleText) RoleText {
	if t != nil {
		if rt, ok := t.System[key]; ok {
			return rt
		}
	}
	return def
}

// SystemRoles are the template's system roles as roles: full_access first,
// then default_access if the product has it.
func (t *Template) SystemRoles() []Role {
	var out []Role
	for _, key := range []string{fullAccess, defaultAccess} {
		if rt, ok := t.System[key]; ok {
			out = append(out, Role{Key: key, Name: rt.Name, Description: rt.Description, Grants: []string{"*"}, Locked: true})
		}
	}
	return out
}

// NewMemberRoles are the roles a member added without roles receives.
func (t *Template) NewMemberRoles() []string {
	if t.Settings.NewMemberRoles == nil {
		return []string{}
	}
	return t.Settings.NewMemberRoles
}

// MinRolesPerMember is the fewest roles a member may hold (M2).
func (t *Template) MinRolesPerMember() int { return t.Settings.MinRolesPerMember }

// The system roles' keys (R2); package iam names them too.
const (
	fullAccess    = "full_access"
	defaultAccess = "default_access"
)

// Role is a role the template adds besides full_access and default_access.
type Role struct {
	Key         string   `json:"key"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Grants      []string `json:"grants"`
	// Locked roles are SYSTEM roles: neither edited nor deleted (R2).
	Locked bool `json:"locked"`
}

// Scope is an API key scope (S1).
type Scope struct {
	Key         string   `json:"key"`
	Description string   `json:"description"`
	Grants      []string `json:"grants"`
}

// Member is a demo member: an email and role keys.
type Member struct {
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

var all = mustLoad()

func mustLoad() map[string]*Template {
	out := map[string]*Template{}
	entries, err := files.ReadDir("data")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		raw, err := files.ReadFile(path.Join("data", e.Name()))
		if err != nil {
			panic(err)
		}
		t, err := parse(raw)
		if err != nil {
			panic(fmt.Sprintf("templates: %s: %v", e.Name(), err))
		}
		if want := strings.TrimSuffix(e.Name(), ".json"); t.Name != want {
			panic(fmt.Sprintf("templates: %s names itself %q", e.Name(), t.Name))
		}
		out[t.Name] = t
	}
	return out
}

// parse reads a template strictly: a typo in a data file fails at start-up
// and in the tests, not in an operator's account.
func parse(raw []byte) (*Template, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var t Template
	if err := dec.Decode(&t); err != nil {
		return nil, err
	}
	for key := range t.System {
		if key != fullAccess && key != defaultAccess {
			return nil, fmt.Errorf("systemRoles: %q is not a system role", key)
		}
	}
	if !t.HasSystemRole(fullAccess) {
		return nil, errors.New("systemRoles: full_access, the owner role, is required")
	}
	hasPermission := func(key string) bool {
		return slices.ContainsFunc(t.Permissions, func(p Permission) bool { return p.Key == key })
	}
	for _, key := range t.OnRequest {
		if !hasPermission(key) {
			return nil, fmt.Errorf("onRequest: %q is not one of the template's permissions", key)
		}
	}
	if p := t.Features.CustomRolesPermission; p != "" && !hasPermission(p) {
		return nil, fmt.Errorf("features.customRolesPermission: %q is not one of the template's permissions", p)
	}
	hasRole := func(key string) bool {
		return t.HasSystemRole(key) || slices.ContainsFunc(t.Roles, func(r Role) bool { return r.Key == key })
	}
	for _, key := range t.Settings.NewMemberRoles {
		if !hasRole(key) {
			return nil, fmt.Errorf("settings.newMemberRoles: %q is not a role of the template", key)
		}
	}
	if t.Settings.MinRolesPerMember < 0 {
		return nil, errors.New("settings.minRolesPerMember must not be negative")
	}
	for _, m := range t.Demo {
		for _, key := range m.Roles {
			if !hasRole(key) {
				return nil, fmt.Errorf("demo member %s: %q is not a role of the template", m.Email, key)
			}
		}
	}
	return &t, nil
}

// Get returns a template by name.
func Get(name string) (*Template, bool) {
	t, ok := all[name]
	return t, ok
}

// All returns every template, by name.
func All() []*Template {
	out := make([]*Template, 0, len(all))
	for _, t := range all {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Template) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Names returns the templates' names, sorted.
func Names() []string {
	var names []string
	for _, t := range All() {
		names = append(names, t.Name)
	}
	return names
}
