package apitest

// End-to-end suite for the truerecord template (A5): each test walks through
// a behaviour of True Record's "Permissions & Roles" page (seeds/002) over
// HTTP. Helpers shared with the Truora suite live in template_truora_test.go.

import (
	"slices"
	"strings"
	"testing"
)

// trrRoles are True Record's roles as the account lists them: the six levels,
// the Owner being full_access, and no other.
var trrRoles = []struct{ key, name, level string }{
	{"full_access", "Owner", "Level 1."},
	{"admin", "Admin", "Level 2."},
	{"config_admin", "Config Admin", "Level 3."},
	{"member", "Member", "Level 4."},
	{"viewer", "Viewer", "Level 5."},
	{"auditor", "Auditor", "Level 6."},
}

// trrCategories are the document's permission categories, plus the
// capabilities its role cards name outside them (view_reports,
// manage_field_weights, transfer_ownership and the Auditor's three).
var trrCategories = []string{
	"view_duplicates", "merge_records", "dismiss_duplicates", "bulk_merge", "delete_records",
	"run_scans", "create_schedules", "manage_schedules", "view_scan_history",
	"import_data", "export_data", "enrich_records", "verify_records", "view_reports",
	"manage_matching_rules", "manage_field_weights", "manage_integrations", "manage_api_keys", "view_settings",
	"manage_users", "manage_billing", "manage_credits", "delete_organization", "transfer_ownership",
	"view_activity_logs", "view_merge_history", "export_audit_reports",
}

// trrViewer is what Viewer may do: read-only.
var trrViewer = []string{"view_duplicates", "view_reports", "view_scan_history"}

// trrEffective is each role's effective permissions: the document's
// capabilities, with the administrative ones mapped onto exactly the
// Gatehouse actions they name: manage_users ("Invite, remove, and change user
// roles") → iam.members.invite, .remove, .roles.assign (and reading members
// and roles); manage_api_keys ("Create and revoke API keys") →
// iam.keys.create, .revoke (and reading keys); view_activity_logs and
// export_audit_reports → iam.audit.read.
func trrEffective() map[string][]string {
	ownerOnly := []string{"manage_billing", "manage_credits", "delete_organization", "transfer_ownership"}
	admin := slices.DeleteFunc(slices.Clone(trrCategories), func(k string) bool { return slices.Contains(ownerOnly, k) })
	admin = append(admin, "iam.members.read", "iam.members.invite", "iam.members.remove", "iam.members.roles.assign", "iam.roles.read",
		"iam.keys.read", "iam.keys.create", "iam.keys.revoke", "iam.audit.read")
	return map[string][]string{
		"full_access": append(slices.Clone(trrCategories), builtinPermissions...),
		"admin":       admin,
		"config_admin": {"manage_matching_rules", "manage_field_weights", "create_schedules", "manage_schedules",
			"view_duplicates", "view_scan_history", "view_reports", "view_merge_history", "view_settings"},
		"member":  {"merge_records", "dismiss_duplicates", "run_scans", "bulk_merge", "view_duplicates", "view_scan_history", "view_reports"},
		"viewer":  trrViewer,
		"auditor": {"view_activity_logs", "view_merge_history", "export_audit_reports", "iam.audit.read"},
	}
}

// trrTeam creates a True Record account with one member per level below the
// Owner and returns it with each member's id and JWT by role key.
func trrTeam(e *env, slug string) (templateAccount, map[string]string, map[string]string) {
	e.t.Helper()
	a := e.newTemplateAccount("truerecord", slug)
	ids, toks := map[string]string{"full_access": a.OwnerID}, map[string]string{"full_access": a.Owner}
	for _, key := range []string{"admin", "config_admin", "member", "viewer", "auditor"} {
		ids[key], toks[key] = trAdd(e, a.Owner, a.ID, key+"@"+slug+".test", key)
	}
	return a, ids, toks
}

// trrSuggested are the role keys a denial suggests (D4).
func trrSuggested(r resp, path string) []string {
	return gjsonStrings(r.Get(path + ".suggestedRoles.#.key").Array())
}

// "True Record includes six standard roles": listed in level order with the
// document's permissions, locked (R2), one per user (A2 SINGLE).
func TestTrueRecord_SixLeveledRolesInOrder(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, ids, _ := trrTeam(e, "trr-levels")
		c := a.Created.Get("data.createAccount.account")
		if c.Get("settings.roleAssignment").String() != "SINGLE" || c.Get("features.customRoles").Bool() {
			t.Fatalf("settings and features: %s", a.Created)
		}
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { roles { edges { node { key name description kind effectivePermissions } } } } }`, map[string]any{"id": a.ID})
		nodes := r.Get("data.account.roles.edges.#.node").Array()
		if len(nodes) != len(trrRoles) {
			t.Fatalf("roles: %s", r.Get("data.account.roles.edges.#.node.key"))
		}
		want := trrEffective()
		for i, w := range trrRoles {
			n := nodes[i]
			if n.Get("key").String() != w.key || n.Get("name").String() != w.name || n.Get("kind").String() != "SYSTEM" ||
				!strings.HasPrefix(n.Get("description").String(), w.level) {
				t.Errorf("role %d: want %s %q (%s), got %s", i+1, w.key, w.name, w.level, n)
			}
			sameStrings(t, w.name, gjsonStrings(n.Get("effectivePermissions").Array()), want[w.key])
		}
		// Members hold exactly their level's permissions.
		for _, key := range []string{"viewer", "member", "auditor"} {
			sameStrings(t, key+" member", e.permissionsOf(ids[key]), want[key])
		}
		// Standard roles are locked, even for the Owner.
		r = e.fails("FORBIDDEN", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": a.Roles["viewer"], "expectedVersion": 1, "addGrants": []string{"merge_records"}}})
		if r.Get("errors.0.extensions.reason").String() != "SYSTEM_ROLE" {
			t.Errorf("viewer edited: %s", r)
		}
		e.fails("FORBIDDEN", a.Owner, deleteRole, map[string]any{"in": map[string]any{"roleId": a.Roles["member"], "reassignToRoleId": a.Roles["viewer"]}})
		// Each user is assigned a role: one.
		r = e.fails("BAD_USER_INPUT", a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": ids["viewer"], "roleKeys": []string{"viewer", "auditor"}}})
		if r.Get("errors.0.extensions.reason").String() != "SINGLE_ROLE" {
			t.Errorf("two roles: %s", r)
		}
	})
}

// "Each user is assigned a role that determines their permissions" — one of
// the six, picked when the user is added: True Record has no seventh role to
// fall back on, so a user added without a role is refused (M2, least
// privilege), and nothing is given implicitly.
func TestTrueRecord_EachUserIsAssignedOneOfTheSixRoles(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, _, toks := trrTeam(e, "trr-assign")
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { settings { newMemberRoles } roles { totalCount } } }`, map[string]any{"id": a.ID})
		if r.Get("data.account.settings.newMemberRoles").Raw != "[]" || r.Get("data.account.roles.totalCount").Int() != 6 {
			t.Fatalf("six roles, none given implicitly: %s", r)
		}
		for name, in := range map[string]map[string]any{
			"no role named": {"accountId": a.ID, "email": "new@trr-assign.test"},
			"an empty list": {"accountId": a.ID, "email": "new@trr-assign.test", "roleKeys": []string{}},
		} {
			r := e.fails("BAD_USER_INPUT", toks["admin"], addMember, map[string]any{"in": in})
			if r.Get("errors.0.extensions.reason").String() != "SINGLE_ROLE" {
				t.Errorf("%s: %s", name, r)
			}
		}
		if e.auditCount(a.ID, "member.added") != 5 {
			t.Error("L1: a refused user was added")
		}
		// Named, the Admin adds them with any level below its own.
		r = e.ok(toks["admin"], addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "new@trr-assign.test", "roleKeys": []string{"viewer"}}})
		if r.Get("data.addMember.member.roles.#.key").String() != `["viewer"]` {
			t.Fatalf("added: %s", r)
		}
	})
}

// "Viewer: read-only ... cannot take any action"; "Member: can merge and
// dismiss duplicates, run scans" (D1, D2, D4).
func TestTrueRecord_ViewerCannotMergeMemberCanScan(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, _, toks := trrTeam(e, "trr-actions")
		self := func(role, perm string) resp {
			t.Helper()
			return e.decide(toks[role], map[string]any{"accountId": a.ID, "permission": perm})
		}
		r := self("viewer", "merge_records")
		if r.Get("data.authorize.allowed").Bool() || r.Get("data.authorize.reason").String() != "NOT_GRANTED" {
			t.Fatalf("viewer merges: %s", r)
		}
		sameStrings(t, "roles that merge", trrSuggested(r, "data.authorize"), []string{"full_access", "admin", "member"})
		for _, p := range []string{"run_scans", "dismiss_duplicates", "bulk_merge", "export_data", "delete_records"} {
			if r := self("viewer", p); r.Get("data.authorize.allowed").Bool() {
				t.Errorf("viewer may %s: %s", p, r)
			}
		}
		for _, p := range trrViewer {
			if r := self("viewer", p); !r.Get("data.authorize.allowed").Bool() {
				t.Errorf("viewer may not %s: %s", p, r)
			}
		}
		r = self("member", "run_scans")
		if !r.Get("data.authorize.allowed").Bool() || r.Get("data.authorize.reason").String() != "GRANTED" ||
			r.Get("data.authorize.grantedBy.roleKey").String() != "member" || r.Get("data.authorize.grantedBy.grant").String() != "run_scans" {
			t.Fatalf("member scans: %s", r)
		}
		for p, allowed := range map[string]bool{"merge_records": true, "dismiss_duplicates": true, "bulk_merge": true, "delete_records": false, "manage_matching_rules": false, "manage_users": false} {
			if r := self("member", p); r.Get("data.authorize.allowed").Bool() != allowed {
				t.Errorf("member and %s: %s", p, r)
			}
		}
		// Config Admin configures but does not merge; the Auditor reads logs but does not scan.
		for role, perms := range map[string]map[string]bool{
			"config_admin": {"manage_matching_rules": true, "manage_field_weights": true, "manage_schedules": true, "merge_records": false, "manage_users": false, "manage_billing": false},
			"auditor":      {"view_activity_logs": true, "export_audit_reports": true, "run_scans": false, "view_duplicates": false},
			"admin":        {"manage_users": true, "manage_api_keys": true, "delete_records": true, "manage_billing": false, "delete_organization": false},
			"full_access":  {"manage_billing": true, "delete_organization": true, "transfer_ownership": true},
		} {
			for p, allowed := range perms {
				if r := self(role, p); r.Get("data.authorize.allowed").Bool() != allowed {
					t.Errorf("%s and %s: %s", role, p, r)
				}
			}
		}
		// The activity log is really readable by the Auditor, not by the Viewer.
		const log = `query($id: ID!) { account(id: $id) { auditEvents(first: 1) { totalCount } } }`
		e.ok(toks["auditor"], log, map[string]any{"id": a.ID})
		e.fails("FORBIDDEN", toks["viewer"], log, map[string]any{"id": a.ID})
	})
}

// "How do I change a user's role? ... You must have the manage_users
// permission"; "Removed users immediately lose access ... Their actions are
// retained in audit logs" (M5, R7).
func TestTrueRecord_ChangingRolesNeedsManageUsers(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, ids, toks := trrTeam(e, "trr-users")
		change := func(memberID, role string) map[string]any {
			return map[string]any{"in": map[string]any{"memberId": memberID, "roleKeys": []string{role}}}
		}
		for _, who := range []string{"config_admin", "member", "viewer", "auditor"} {
			r := e.fails("FORBIDDEN", toks[who], setRoles, change(ids["viewer"], "member"))
			if r.Get("errors.0.extensions.missingPermissions").String() != `["iam.members.roles.assign"]` {
				t.Errorf("%s: %s", who, r)
			}
		}
		r := e.ok(toks["admin"], setRoles, change(ids["viewer"], "member"))
		if r.Get("data.setMemberRoles.member.roles.#.key").String() != `["member"]` {
			t.Fatalf("admin changed the role: %s", r)
		}
		// An Admin cannot hand out the Owner's billing powers (no escalation).
		r = e.fails("FORBIDDEN", toks["admin"], setRoles, change(ids["member"], "full_access"))
		if !strings.Contains(r.Get("errors.0.extensions.missingPermissions").String(), "manage_billing") {
			t.Errorf("admin made an owner: %s", r)
		}
		// An Admin removes a user: access is gone at once, their actions stay in the log.
		second, secondTok := trAdd(e, a.Owner, a.ID, "admin2@trr-users.test", "admin")
		e.ok(secondTok, setRoles, change(ids["auditor"], "viewer"))
		e.ok(toks["admin"], remove, map[string]any{"id": second})
		if r := e.ok(secondTok, `{ viewer { memberships { status } } }`, nil); r.Get("data.viewer.memberships.#").Int() != 0 {
			t.Errorf("removed user still a member: %s", r)
		}
		e.fails("NOT_FOUND", secondTok, `query($id: ID!) { account(id: $id) { name } }`, map[string]any{"id": a.ID})
		r = e.ok(a.Owner, `query($id: ID!) { account(id: $id) { auditEvents(where: {action: "member.roles.changed"}) { edges { node { actorType actorLabel targetID } } } } }`, map[string]any{"id": a.ID})
		found := false
		for _, n := range r.Get("data.account.auditEvents.edges.#.node").Array() {
			if n.Get("targetID").String() == ids["auditor"] && n.Get("actorType").String() == "USER" && n.Get("actorLabel").String() == "admin2@trr-users.test" {
				found = true
			}
		}
		if !found {
			t.Errorf("the removed user's action is not in the audit log: %s", r)
		}
		// manage_users is "Invite, remove, and change user roles": not
		// suspending, which only the Owner does.
		r = e.fails("FORBIDDEN", toks["admin"], suspend, map[string]any{"id": ids["member"]})
		if r.Get("errors.0.extensions.missingPermissions").String() != `["iam.members.suspend"]` {
			t.Errorf("admin suspends: %s", r)
		}
		e.ok(a.Owner, suspend, map[string]any{"id": ids["member"]})
	})
}

// "Owner: ... owner transfer": transferOwnership moves full_access atomically
// and leaves the previous Owner with the level they choose (M4, M3).
func TestTrueRecord_OwnerTransfer(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, ids, toks := trrTeam(e, "trr-transfer")
		in := func(to, demote string) map[string]any {
			v := map[string]any{"accountId": a.ID, "toMemberId": to}
			if demote != "" {
				v["demoteToRoleId"] = demote
			}
			return map[string]any{"in": v}
		}
		// An Admin manages users but "owner transfer" is the Owner's
		// (transfer_ownership → iam.members.ownership.transfer).
		for _, v := range []map[string]any{in(ids["member"], ""), {"in": map[string]any{"accountId": a.ID, "toMemberId": ids["admin"], "fromMemberId": a.OwnerID}}} {
			r := e.fails("FORBIDDEN", toks["admin"], transfer, v)
			if r.Get("errors.0.extensions.missingPermissions").String() != `["iam.members.ownership.transfer"]` {
				t.Errorf("admin transfers: %s", r)
			}
		}
		e.fails("BAD_USER_INPUT", a.Owner, transfer, in(ids["admin"], a.Roles["full_access"]))
		// Every user holds one of the six roles: the Owner names the one they keep.
		r := e.fails("BAD_USER_INPUT", a.Owner, transfer, in(ids["admin"], ""))
		if !strings.Contains(r.Get("errors.0.message").String(), "demoteToRoleId") {
			t.Errorf("transfer without the role kept: %s", r)
		}
		// A refused transfer changes nothing: the new owner must be ACTIVE.
		e.ok(a.Owner, suspend, map[string]any{"id": ids["viewer"]})
		e.fails("CONFLICT", a.Owner, transfer, in(ids["viewer"], a.Roles["admin"]))
		if got := gjsonStrings(e.ok(a.Owner, `query($id: ID!) { node(id: $id) { ... on Member { roles { key } } } }`, map[string]any{"id": a.OwnerID}).Get("data.node.roles.#.key").Array()); !slices.Equal(got, []string{"full_access"}) {
			t.Fatalf("owner after a refused transfer: %v", got)
		}

		// The Owner hands over to the Admin and stays on as Admin.
		r = e.ok(a.Owner, transfer, in(ids["admin"], a.Roles["admin"]))
		if r.Get("data.transferOwnership.to.roles.#.key").String() != `["full_access"]` || r.Get("data.transferOwnership.from.roles.#.key").String() != `["admin"]` {
			t.Fatalf("transfer: %s", r)
		}
		full := trRole(e, a.ID, "full_access").Get("data.account.role")
		if full.Get("holderCount").Int() != 1 || trRole(e, a.ID, "admin").Get("data.account.role.holderCount").Int() != 1 {
			t.Fatalf("holders after the transfer: %s", full)
		}
		want := trrEffective()
		sameStrings(t, "new owner", e.permissionsOf(ids["admin"]), want["full_access"])
		sameStrings(t, "previous owner", e.permissionsOf(a.OwnerID), want["admin"])
		for cred, allowed := range map[string]bool{toks["admin"]: true, a.Owner: false} {
			if r := e.decide(cred, map[string]any{"accountId": a.ID, "permission": "manage_billing"}); r.Get("data.authorize.allowed").Bool() != allowed {
				t.Errorf("billing after the transfer: %s", r)
			}
		}
		// The previous Owner, now an Admin, has nothing left to transfer.
		e.fails("FORBIDDEN", a.Owner, transfer, in(ids["member"], a.Roles["admin"]))
		if e.auditCount(a.ID, "ownership.transferred") != 1 {
			t.Error("the transfer is audited once, refusals not at all")
		}
	})
}

// "Organizations on Enterprise plans can also create custom roles": refused
// without the plan feature, allowed once the operator turns it on (A3, R3).
func TestTrueRecord_CustomRolesNeedThePlanFeature(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, ids, _ := trrTeam(e, "trr-custom")
		in := map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Merger", "description": "Merges, nothing else",
			"grants": []string{"view_duplicates", "merge_records"}}}
		e.fails("FEATURE_NOT_AVAILABLE", a.Owner, createRole, in)
		e.fails("FEATURE_NOT_AVAILABLE", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Copy", "copyFromRoleId": a.Roles["viewer"]}})
		// "Contact support": the customer cannot turn it on themselves.
		const features = `mutation($id: ID!, $on: Boolean!) { updateAccount(input: {accountId: $id, features: {customRoles: $on}}) { account { features { customRoles } } } }`
		e.fails("FORBIDDEN", a.Owner, features, map[string]any{"id": a.ID, "on": true})
		if n := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { roles { totalCount } } }`, map[string]any{"id": a.ID}).Get("data.account.roles.totalCount").Int(); n != 6 {
			t.Fatalf("a refused role was created: %d roles", n)
		}
		r := e.ok(e.Operator, features, map[string]any{"id": a.ID, "on": true})
		if !r.Get("data.updateAccount.account.features.customRoles").Bool() {
			t.Fatalf("feature: %s", r)
		}
		r = e.ok(a.Owner, createRole, in)
		role := r.Get("data.createRole.role.id").String()
		e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": ids["viewer"], "roleIds": []string{role}}})
		sameStrings(t, "custom role holder", e.permissionsOf(ids["viewer"]), []string{"view_duplicates", "merge_records"})
		// Custom roles are editable, unlike the standard ones.
		r = e.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": role, "expectedVersion": 1, "addGrants": []string{"dismiss_duplicates"}}})
		sameStrings(t, "edited custom role", gjsonStrings(r.Get("data.updateRole.role.effectivePermissions").Array()), []string{"view_duplicates", "merge_records", "dismiss_duplicates"})
	})
}

// "API keys have scopes that limit what actions they can perform": read,
// write, admin, export (S1); a key asks only for what its creator holds (S2).
func TestTrueRecord_KeysWithTheFourScopes(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, ids, toks := trrTeam(e, "trr-scopes")
		r := e.ok(toks["admin"], `query($id: ID!) { account(id: $id) { scopes { edges { node { key description } } } } }`, map[string]any{"id": a.ID})
		sameStrings(t, "scopes", gjsonStrings(r.Get("data.account.scopes.edges.#.node.key").Array()), []string{"read", "write", "admin", "export"})
		scopes := map[string][]string{
			"read":  {"view_duplicates", "view_scan_history"},
			"write": {"view_duplicates", "view_scan_history", "run_scans", "merge_records", "dismiss_duplicates"},
			// "Full access including settings and user management": the
			// Admin level's capabilities, resolved with their iam.* mapping.
			"admin":  trrEffective()["admin"],
			"export": {"export_data", "view_reports"},
		}
		secrets := map[string]string{}
		for scope, want := range scopes {
			r := e.ok(toks["admin"], trCreateKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": scope + " key", "scopes": []string{scope}}})
			if r.Get("data.createApiKey.apiKey.scopes").String() != `["`+scope+`"]` {
				t.Errorf("scopes of the key: %s", r)
			}
			sameStrings(t, scope+" key", gjsonStrings(r.Get("data.createApiKey.apiKey.permissions").Array()), want)
			secrets[scope] = r.Get("data.createApiKey.secret").String()
		}
		// The scope limits what the key does.
		for scope, perms := range map[string]map[string]bool{
			"read":   {"view_duplicates": true, "merge_records": false, "run_scans": false},
			"write":  {"run_scans": true, "merge_records": true, "manage_matching_rules": false, "export_data": false},
			"admin":  {"manage_users": true, "manage_matching_rules": true, "manage_billing": false},
			"export": {"export_data": true, "view_duplicates": false},
		} {
			for p, allowed := range perms {
				if r := e.ok(secrets[scope], trCan, map[string]any{"a": a.ID, "p": p}); r.Get("data.authorize.allowed").Bool() != allowed {
					t.Errorf("%s key and %s: %s", scope, p, r)
				}
			}
		}
		// A scope beyond the creator's reach is refused, naming what is missing:
		// the operator mints keys for a Viewer, bounded by the Viewer.
		mint := func(scope string) map[string]any {
			return map[string]any{"in": map[string]any{"accountId": a.ID, "name": "viewer " + scope, "memberId": ids["viewer"], "scopes": []string{scope}}}
		}
		r = e.ok(e.Operator, trCreateKey, mint("read"))
		sameStrings(t, "viewer's read key", gjsonStrings(r.Get("data.createApiKey.apiKey.permissions").Array()), scopes["read"])
		for scope, missing := range map[string][]string{
			"write":  {"dismiss_duplicates", "merge_records", "run_scans"},
			"export": {"export_data"},
		} {
			r := e.fails("FORBIDDEN", e.Operator, trCreateKey, mint(scope))
			sameStrings(t, "missing for "+scope, gjsonStrings(r.Get("errors.0.extensions.missingPermissions").Array()), missing)
		}
		// A Member runs scans but cannot create keys (manage_api_keys).
		r = e.fails("FORBIDDEN", toks["member"], trCreateKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "mine", "scopes": []string{"read"}}})
		if r.Get("errors.0.extensions.missingPermissions").String() != `["iam.keys.create"]` {
			t.Errorf("member creates a key: %s", r)
		}
		// manage_api_keys: "Create and revoke API keys" — the Admin revokes.
		r = e.ok(toks["admin"], `mutation($in: RevokeApiKeyInput!) { revokeApiKey(input: $in) { apiKey { status } } }`,
			map[string]any{"in": map[string]any{"apiKeyId": e.ok(e.Operator, `query($id: ID!) { account(id: $id) { apiKeys(first: 1) { edges { node { id } } } } }`,
				map[string]any{"id": a.ID}).Get("data.account.apiKeys.edges.0.node.id").String()}})
		if r.Get("data.revokeApiKey.apiKey.status").String() != "REVOKED" {
			t.Errorf("admin revokes: %s", r)
		}
	})
}

// "Why can't I perform an action? Your role may not have the required
// permission. Check ... My Profile to see your current role and permissions"
// (M6, D4).
func TestTrueRecord_WhyCantIPerformAnAction(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a, _, toks := trrTeam(e, "trr-why")
		r := e.ok(toks["viewer"], `query($a: ID!) { viewer { kind
			memberships { account { id } member { id } status roles { key name } effectivePermissions }
			merge: can(accountId: $a, permission: "merge_records") { allowed reason suggestedRoles { key name } }
			view: can(accountId: $a, permission: "view_duplicates") { allowed reason grantedBy { roleKey grant } } } }`, map[string]any{"a": a.ID})
		v := r.Get("data.viewer")
		if v.Get("kind").String() != "USER" || v.Get("memberships.#").Int() != 1 || v.Get("memberships.0.account.id").String() != a.ID ||
			v.Get("memberships.0.status").String() != "ACTIVE" {
			t.Fatalf("viewer: %s", r)
		}
		if v.Get("memberships.0.roles").String() != `[{"key":"viewer","name":"Viewer"}]` {
			t.Errorf("current role: %s", v.Get("memberships.0.roles"))
		}
		sameStrings(t, "current permissions", gjsonStrings(v.Get("memberships.0.effectivePermissions").Array()), trrViewer)
		if v.Get("merge.allowed").Bool() || v.Get("merge.reason").String() != "NOT_GRANTED" {
			t.Fatalf("merge: %s", v.Get("merge"))
		}
		sameStrings(t, "roles to ask for", trrSuggested(r, "data.viewer.merge"), []string{"full_access", "admin", "member"})
		sameStrings(t, "their names", gjsonStrings(r.Get("data.viewer.merge.suggestedRoles.#.name").Array()), []string{"Owner", "Admin", "Member"})
		if !v.Get("view.allowed").Bool() || v.Get("view.grantedBy.roleKey").String() != "viewer" || v.Get("view.grantedBy.grant").String() != "view_duplicates" {
			t.Errorf("view: %s", v.Get("view"))
		}
		// The answer follows a role change at once.
		e.ok(toks["admin"], setRoles, map[string]any{"in": map[string]any{"memberId": v.Get("memberships.0.member.id").String(), "roleKeys": []string{"member"}}})
		r = e.ok(toks["viewer"], `query($a: ID!) { viewer { can(accountId: $a, permission: "merge_records") { allowed grantedBy { roleKey } } } }`, map[string]any{"a": a.ID})
		if !r.Get("data.viewer.can.allowed").Bool() || r.Get("data.viewer.can.grantedBy.roleKey").String() != "member" {
			t.Errorf("after becoming a Member: %s", r)
		}
	})
}
