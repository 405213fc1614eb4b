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
	// SystemRoles renames full_access and default_access for the product
	// (True Record's Owner is full_access).
	SystemRoles map[string]RoleText `json:"systemRoles,omitempty"`
	Settings    Settings            `json:"settings"`
	Features    Features            `json:"features"`
	// Roles are listed after full_access and before default_access, in
	// this order (True Record's levels).
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

// Settings are the account settings the template starts with (A2).
type Settings struct {
	RoleAssignment        string   `json:"roleAssignment"`
	DefaultAccessExcludes []string `json:"defaultAccessExcludes"`
}

// Features are the plan features the template starts with (A3).
type Features struct {
	CustomRoles         bool `json:"customRoles"`
	ResourceConstraints bool `json:"resourceConstraints"`
}

// RoleText is a system role's name and description in a product's words.
type RoleText struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// SystemRole is how the template names the system role key (full_access or
// default_access), or def when it does not, or when t is nil.
func (t *Template) SystemRole(key string, def RoleText) RoleText {
	if t != nil {
		if rt, ok := t.SystemRoles[key]; ok {
			return rt
		}
	}
	return def
}

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
	for key := range t.SystemRoles {
		if key != "full_access" && key != "default_access" {
			return nil, fmt.Errorf("systemRoles: %q is not a system role", key)
		}
	}
	for _, key := range t.OnRequest {
		if !slices.ContainsFunc(t.Permissions, func(p Permission) bool { return p.Key == key }) {
			return nil, fmt.Errorf("onRequest: %q is not one of the template's permissions", key)
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
