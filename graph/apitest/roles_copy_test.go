package apitest

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// R3, issue 9: createRole(copyFromRoleId:) of default_access stored its
// grants, ["*"], so the copy gave the whole master list (171 permissions in
// a Truora account instead of default_access's 155). A role defined by
// exclusion is copied as what it gives: the copy's grants are the source's
// effective permissions. Every other role is copied grant for grant. Either
// way the copy gives what the source gives; the only keys it may give
// beyond are those its copied keys imply (K4) and the source's exclusion
// took away — a custom role has no exclusions (Truora's account.users.list
// implies iam.members.read, which default_access leaves out with iam.*).
// Tried on every system role of every template.
func TestR3_CopyOfASystemRoleGivesWhatItGives(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		templates := gjsonStrings(e.ok(e.Operator, `{ templates { name } }`, nil).Get("data.templates.#.name").Array())
		if len(templates) < 5 {
			t.Fatalf("templates: %v", templates)
		}
		for _, tmpl := range templates {
			a, roles, _ := e.createAccount("copy-"+tmpl, map[string]any{"template": tmpl,
				"features": map[string]any{"customRoles": true, "resourceConstraints": true}})
			if tmpl == "truora" { // custom roles need truora.roles on the master list (issue 10)
				e.ok(e.Operator, `mutation($in: AccountPermissionsInput!) { addAccountPermissions(input: $in) { account { id } } }`,
					map[string]any{"in": map[string]any{"accountId": a.ID, "permissions": []string{"truora.roles"}}})
			}
			implies := e.catalogImplications()
			excludes := gjsonStrings(e.ok(a.Owner, `query($id: ID!) { account(id: $id) { settings { defaultAccessExcludes } } }`,
				map[string]any{"id": a.ID}).Get("data.account.settings.defaultAccessExcludes").Array())
			for key, id := range roles {
				src := e.ok(a.Owner, `query($id: ID!) { node(id: $id) { ... on Role { kind grants effectivePermissions constraints { attribute } } } }`,
					map[string]any{"id": id}).Get("data.node")
				if src.Get("kind").String() != "SYSTEM" {
					continue
				}
				what := tmpl + " " + key
				copied := e.ok(a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { kind grants effectivePermissions } } }`,
					map[string]any{"in": map[string]any{"accountId": a.ID, "key": "copy_of_" + key, "name": "Copy of " + key, "copyFromRoleId": id}}).
					Get("data.createRole.role")
				srcGrants, srcEff := gjsonStrings(src.Get("grants").Array()), gjsonStrings(src.Get("effectivePermissions").Array())
				grants, eff := gjsonStrings(copied.Get("grants").Array()), gjsonStrings(copied.Get("effectivePermissions").Array())
				if key == "default_access" {
					sameStrings(t, what+": the copy's grants", grants, srcEff)
				} else {
					sameStrings(t, what+": the copy's grants", grants, srcGrants)
				}
				for _, k := range srcEff {
					if !slices.Contains(eff, k) {
						t.Errorf("%s: the copy lacks %s", what, k)
					}
				}
				reached := impliedBy(implies, srcEff)
				for _, k := range eff {
					if !slices.Contains(srcEff, k) && (!reached[k] || !matchesAny(excludes, k)) {
						t.Errorf("%s: the copy gives %s, which the source does not (%d keys, copy %d)", what, k, len(srcEff), len(eff))
					}
				}
			}
		}
	})
}

// catalogImplications reads the whole catalog's implications, by key.
func (e *env) catalogImplications() map[string][]string {
	e.t.Helper()
	out := map[string][]string{}
	after := any(nil)
	for {
		r := e.ok(e.Operator, `query($after: Cursor) { permissionCatalog(first: 100, after: $after) {
			edges { node { key implies } } pageInfo { hasNextPage endCursor } } }`, map[string]any{"after": after})
		for _, n := range r.Get("data.permissionCatalog.edges.#.node").Array() {
			out[n.Get("key").String()] = gjsonStrings(n.Get("implies").Array())
		}
		if !r.Get("data.permissionCatalog.pageInfo.hasNextPage").Bool() {
			return out
		}
		after = r.Get("data.permissionCatalog.pageInfo.endCursor").String()
	}
}

// impliedBy is every key the keys imply, transitively (K4), themselves not
// included unless implied.
func impliedBy(implies map[string][]string, keys []string) map[string]bool {
	out := map[string]bool{}
	queue := slices.Clone(keys)
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, pattern := range implies[k] {
			for cand := range implies {
				if !out[cand] && matchesAny([]string{pattern}, cand) {
					out[cand] = true
					queue = append(queue, cand)
				}
			}
		}
	}
	return out
}

// matchesAny reports whether key matches one of the patterns (K3).
func matchesAny(patterns []string, key string) bool {
	for _, p := range patterns {
		switch {
		case p == "*" || p == key:
			return true
		case strings.HasSuffix(p, ".*") || strings.HasSuffix(p, ":*"):
			if strings.HasPrefix(key, p[:len(p)-1]) && len(key) > len(p)-1 {
				return true
			}
		}
	}
	return false
}

// L1, issue 9: the permissions.defined event had an empty target. Its target
// is the permissions defined, by id.
func TestL1_PermissionsDefinedEventNamesTheirIDs(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		r := e.ok(e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "target.one"}}})
		one := r.Get("data.definePermissions.permissions.0.id").String()
		r = e.ok(e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "target.two"}, {"key": "target.three"}}})
		two := gjsonStrings(r.Get("data.definePermissions.permissions.#.id").Array())
		status, body := e.getExport(e.Operator, "/platform/audit.jsonl")
		if status != http.StatusOK {
			t.Fatalf("platform export: %d %s", status, body)
		}
		var events []gjson.Result
		for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			if ev := gjson.Parse(line); ev.Get("action").String() == "permissions.defined" {
				events = append(events, ev)
			}
		}
		if len(events) < 2 {
			t.Fatalf("events: %v", events)
		}
		for _, ev := range events {
			if ev.Get("targetType").String() != "Permission" || ev.Get("targetId").String() == "" {
				t.Errorf("an event without its target: %s", ev.Raw)
			}
		}
		prev, last := events[len(events)-2], events[len(events)-1]
		if prev.Get("targetId").String() != one {
			t.Errorf("one permission: %s", prev.Raw)
		}
		if last.Get("targetId").String() != strings.Join(two, ",") {
			t.Errorf("two permissions: %s", last.Raw)
		}
	})
}
