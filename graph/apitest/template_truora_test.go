package apitest

// End-to-end suite for the truora template (A5): each test walks through a
// behaviour of Truora's "Navigating Roles and Permissions" and "Understanding
// Account Access and Permissions" documents (seeds/000, seeds/001) over HTTP.

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/templates"
)

const (
	trMasterPage = `query($id: ID!, $after: Cursor) { account(id: $id) { permissions(first: 100, after: $after) {
		totalCount edges { node { key kind } } pageInfo { hasNextPage endCursor } } } }`
	trRoleQuery   = `query($id: ID!, $k: String!) { account(id: $id) { role(key: $k) { id key name kind version grants effectivePermissions holderCount } } }`
	trAddPerms    = `mutation($id: ID!, $p: [String!]!) { addAccountPermissions(input: {accountId: $id, permissions: $p}) { account { id } } }`
	trRemovePerms = `mutation($id: ID!, $p: [String!]!) { removeAccountPermissions(input: {accountId: $id, permissions: $p}) { account { id } } }`
	trAddMember   = `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id status roles { key } } } }`
	trCreateKey   = `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id scopes permissions } } }`
	trKeyPerms    = `query($id: ID!) { node(id: $id) { ... on ApiKey { status permissions } } }`
	trCan         = `query($a: ID!, $p: String!) { authorize(input: {accountId: $a, permission: $p}) { allowed reason
		grantedBy { roleKey grant chain } suggestedRoles { key name } } }`
)

// trMaster returns the account's master list, every page, as key → kind.
func trMaster(e *env, accountID string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	var after any
	for {
		r := e.ok(e.Operator, trMasterPage, map[string]any{"id": accountID, "after": after})
		for _, n := range r.Get("data.account.permissions.edges.#.node").Array() {
			out[n.Get("key").String()] = n.Get("kind").String()
		}
		if !r.Get("data.account.permissions.pageInfo.hasNextPage").Bool() {
			if int64(len(out)) != r.Get("data.account.permissions.totalCount").Int() {
				e.t.Fatalf("master list: %d keys read, totalCount %s", len(out), r.Get("data.account.permissions.totalCount"))
			}
			return out
		}
		after = r.Get("data.account.permissions.pageInfo.endCursor").String()
	}
}

// trGrantKeys are the GRANT keys of a master list for which keep is true, sorted.
func trGrantKeys(master map[string]string, keep func(string) bool) []string {
	var out []string
	for k, kind := range master {
		if kind == "GRANT" && keep(k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// trRole reads a role of the account by key, as the operator.
func trRole(e *env, accountID, key string) resp {
	e.t.Helper()
	r := e.ok(e.Operator, trRoleQuery, map[string]any{"id": accountID, "k": key})
	if !r.Get("data.account.role.id").Exists() {
		e.t.Fatalf("no role %s: %s", key, r)
	}
	return r
}

// trAdd adds a member with roles by key (none named: the account's
// new-member role, default_access) and returns its id and JWT.
func trAdd(e *env, cred, accountID, email string, roleKeys ...string) (string, string) {
	e.t.Helper()
	in := map[string]any{"accountId": accountID, "email": email}
	if len(roleKeys) > 0 {
		in["roleKeys"] = roleKeys
	}
	r := e.ok(cred, trAddMember, map[string]any{"in": in})
	return r.Get("data.addMember.member.id").String(), userToken(e.t, email)
}

// The account starts with every permission the template brings but
// truora.roles ("not enabled by default"), plus the built-ins (A1, A5, K7);
// it is SINGLE and default_access leaves out truora.* and iam.* (A2).
func TestTruora_AccountStartsFromTheMasterClientPermissions(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-start")
		c := a.Created.Get("data.createAccount.account")
		if c.Get("template").String() != "truora" || c.Get("settings.roleAssignment").String() != "SINGLE" ||
			c.Get("settings.defaultAccessExcludes").String() != `["truora.*","iam.*"]` {
			t.Fatalf("settings: %s", a.Created)
		}
		// "two default roles are automatically generated", locked.
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { roles { edges { node { key kind } } } } }`, map[string]any{"id": a.ID})
		if got := r.Get("data.account.roles.edges.#.node.key").String(); got != `["full_access","default_access"]` {
			t.Fatalf("roles: %s", got)
		}
		if r.Get("data.account.roles.edges.#.node.kind").String() != `["SYSTEM","SYSTEM"]` {
			t.Fatalf("system roles: %s", r)
		}
		tmpl, _ := templates.Get("truora")
		var want []string
		for _, p := range tmpl.Permissions {
			if p.Key != "truora.roles" {
				want = append(want, p.Key)
			}
		}
		want = append(want, builtinPermissions...)
		master := trMaster(e, a.ID)
		sameStrings(t, "master list", trMapKeys(master), want)
		if _, ok := master["truora.roles"]; ok {
			t.Error("truora.roles is in the master list by default")
		}
		if master["truora.users"] != "GRANT" || master["truora.keys"] != "GRANT" || master["mask:member.email"] != "DENY_MASK" {
			t.Errorf("kinds: %v", master)
		}
		// Non-administrators get default_access; custom roles wait for truora.roles.
		r = e.ok(e.Operator, `query($id: ID!) { account(id: $id) { settings { newMemberRoles minRolesPerMember } features { customRoles customRolesPermission } } }`, map[string]any{"id": a.ID})
		if got := r.Get("data.account").Raw; got != `{"settings":{"newMemberRoles":["default_access"],"minRolesPerMember":0},"features":{"customRoles":true,"customRolesPermission":"truora.roles"}}` {
			t.Errorf("settings and features: %s", got)
		}
	})
}

// trEnableRoles is Support adding truora.roles to the account's master list.
func trEnableRoles(e *env, a templateAccount) {
	e.t.Helper()
	e.ok(e.Operator, trAddPerms, map[string]any{"id": a.ID, "p": []string{"truora.roles"}})
}

// full_access contains all permissions of the master list and follows it
// (R2, A4): the operator adds or removes a key and full_access changes with no
// role edit, while default_access keeps truora.* out.
func TestTruora_FullAccessFollowsTheMasterList(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-full")
		all := func(string) bool { return true }
		before := trRole(e, a.ID, "full_access")
		if before.Get("data.account.role.grants").String() != `["*"]` {
			t.Fatalf("full_access grants: %s", before)
		}
		version := before.Get("data.account.role.version").Int()
		sameStrings(t, "full_access = master list", e.roleEffective(e.Operator, a.ID, "full_access"), trGrantKeys(trMaster(e, a.ID), all))
		if contains(e.roleEffective(e.Operator, a.ID, "full_access"), "truora.roles") {
			t.Fatal("full_access holds truora.roles before the operator adds it")
		}

		// The operator enables truora.roles, and a key of a newly contracted product.
		e.ok(e.Operator, defineCatalog, map[string]any{"p": []map[string]any{
			{"key": "identity.face_auth.create", "group": "Digital Identity — flows", "description": "Create a face authentication"},
		}})
		e.ok(e.Operator, trAddPerms, map[string]any{"id": a.ID, "p": []string{"truora.roles", "identity.face_auth.create"}})
		full := e.roleEffective(e.Operator, a.ID, "full_access")
		if !contains(full, "truora.roles") || !contains(full, "identity.face_auth.create") {
			t.Fatalf("full_access did not follow the additions: %v", full)
		}
		sameStrings(t, "full_access = master list after adding", full, trGrantKeys(trMaster(e, a.ID), all))
		def := e.roleEffective(e.Operator, a.ID, "default_access")
		if contains(def, "truora.roles") || !contains(def, "identity.face_auth.create") {
			t.Fatalf("default_access after adding: %v", def)
		}
		// The owner, who holds full_access, may now use them (decided, not just listed).
		for _, p := range []string{"truora.roles", "identity.face_auth.create"} {
			if r := e.ok(a.Owner, trCan, map[string]any{"a": a.ID, "p": p}); !r.Get("data.authorize.allowed").Bool() {
				t.Errorf("owner may not %s: %s", p, r)
			}
		}

		// Removing keys removes them from full_access (and default_access) at once.
		e.ok(e.Operator, trRemovePerms, map[string]any{"id": a.ID, "p": []string{"truora.roles", "identity.face_auth.create", "forms.delete"}})
		full = e.roleEffective(e.Operator, a.ID, "full_access")
		for _, k := range []string{"truora.roles", "identity.face_auth.create", "forms.delete"} {
			if contains(full, k) || contains(e.roleEffective(e.Operator, a.ID, "default_access"), k) {
				t.Errorf("%s still effective after its removal from the master list", k)
			}
		}
		sameStrings(t, "full_access = master list after removing", full, trGrantKeys(trMaster(e, a.ID), all))
		if r := e.ok(a.Owner, trCan, map[string]any{"a": a.ID, "p": "forms.delete"}); r.Get("data.authorize.reason").String() != "NOT_IN_MASTER_LIST" {
			t.Errorf("owner after removal: %s", r)
		}
		after := trRole(e, a.ID, "full_access")
		if after.Get("data.account.role.version").Int() != version || after.Get("data.account.role.grants").String() != `["*"]` {
			t.Fatalf("full_access was edited to follow the master list: %s", after)
		}
	})
}

// "default_access: Assigned to non-administrators. Includes all permissions
// from full_access, except those starting with “truora.” (e.g., truora.keys,
// truora.users)" (R2, M2). Gatehouse's own iam.* administration is left out
// too, but not what the keys default_access keeps imply: account.users.list
// ("List account users") and audit_logs.read ("Read audit logs") reach
// iam.members.read and iam.audit.read.
func TestTruora_DefaultAccessIsFullAccessButTruoraKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-default")
		trEnableRoles(e, a)
		want := append(trGrantKeys(trMaster(e, a.ID), func(k string) bool {
			return !strings.HasPrefix(k, "truora.") && !strings.HasPrefix(k, "iam.")
		}), "iam.members.read", "iam.audit.read")
		def := e.roleEffective(e.Operator, a.ID, "default_access")
		sameStrings(t, "default_access", def, want)
		for _, k := range def {
			if strings.HasPrefix(k, "truora.") || strings.HasPrefix(k, "mask:") {
				t.Errorf("default_access holds %s", k)
			}
		}
		// A member added without a role gets default_access (M2) and exactly its permissions.
		m, tok := trAdd(e, a.Owner, a.ID, "analyst@tru-default.test")
		sameStrings(t, "new member", e.permissionsOf(m), want)
		// ...so it can neither manage users, keys nor roles.
		for _, p := range []string{"truora.users", "truora.keys", "truora.roles", "iam.members.invite", "iam.members.roles.assign",
			"iam.members.remove", "iam.keys.create", "iam.roles.manage"} {
			if r := e.ok(tok, trCan, map[string]any{"a": a.ID, "p": p}); r.Get("data.authorize.allowed").Bool() || r.Get("data.authorize.reason").String() != "NOT_GRANTED" {
				t.Errorf("default_access member and %s: %s", p, r)
			}
		}
		r := e.fails("FORBIDDEN", tok, trAddMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "x@tru-default.test"}})
		if r.Get("errors.0.extensions.missingPermissions").String() != `["iam.members.invite"]` {
			t.Errorf("missing: %s", r)
		}
	})
}

// "The truora.roles permission, which allows your account to manage user roles
// and permissions internally, is not enabled by default — if your business
// requires internal roles and permissions management, you must request it":
// until the operator adds truora.roles to the master list nobody creates or
// edits custom roles, the full_access owner included (FEATURE_NOT_AVAILABLE,
// A3); then a member whose role has it does (R7 still bounds what it grants),
// a member without it is FORBIDDEN, and the two default roles "cannot be
// removed" (R2).
func TestTruora_RoleManagementNeedsTruoraRoles(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-roles")
		notEnabled := func(r resp) {
			t.Helper()
			if r.Get("errors.0.extensions.permission").String() != "truora.roles" || r.Get("errors.0.extensions.feature").String() != "customRoles" {
				t.Errorf("the refusal must name truora.roles: %s", r)
			}
		}
		in := map[string]any{"accountId": a.ID, "name": "Analysts", "grants": []string{"identity.flows.read"}}
		for _, cred := range []string{a.Owner, e.Operator} {
			notEnabled(e.fails("FEATURE_NOT_AVAILABLE", cred, createRole, map[string]any{"in": in}))
		}
		_, analyst := trAdd(e, a.Owner, a.ID, "analyst@tru-roles.test")
		e.fails("FORBIDDEN", analyst, createRole, map[string]any{"in": in})

		// Requested from Support: the operator adds truora.roles.
		trEnableRoles(e, a)
		// "If you want to add a new permission to a role, you must first
		// ensure the permission exists in the account's Master Client
		// Permissions list" (R5).
		e.ok(e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "identity.face_auth.create", "group": "Digital Identity — flows"}}})
		r := e.fails("BAD_USER_INPUT", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Face", "grants": []string{"identity.face_auth.create"}}})
		if r.Get("errors.0.extensions.invalidGrants").String() != `["identity.face_auth.create"]` {
			t.Errorf("a permission outside the master list: %s", r)
		}
		managers := e.createRole(a.Owner, a.ID, "Role managers", []string{"truora.roles", "products.all"})
		ops := e.createRole(a.Owner, a.ID, "Operations", []string{"products.all"})
		mgr, mgrTok := e.addMember(a.Owner, a.ID, "roles@tru-roles.test", managers), userToken(t, "roles@tru-roles.test")
		e.addMember(a.Owner, a.ID, "ops@tru-roles.test", ops)
		opsTok := userToken(t, "ops@tru-roles.test")
		if p := e.permissionsOf(mgr); !contains(p, "iam.roles.manage") || !contains(p, "iam.permissions.read") {
			t.Fatalf("truora.roles must give role management (K7): %v", p)
		}

		// The role manager lists the master list and the roles, creates, copies and edits roles.
		e.ok(mgrTok, `query($id: ID!) { account(id: $id) { permissions(first: 5) { totalCount } roles { totalCount } } }`, map[string]any{"id": a.ID})
		c := e.ok(mgrTok, createRole, map[string]any{"in": in})
		analysts := c.Get("data.createRole.role.id").String()
		cp := e.ok(mgrTok, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Senior analysts",
			"description": "Analysts who also run checks", "copyFromRoleId": analysts, "grants": []string{"checks.check.read"}}})
		if got := cp.Get("data.createRole.role.grants").String(); got != `["identity.flows.read","checks.check.read"]` && got != `["checks.check.read","identity.flows.read"]` {
			t.Fatalf("copy from existing role: %s", cp)
		}
		e.ok(mgrTok, updateRole, map[string]any{"in": map[string]any{"roleId": analysts, "expectedVersion": 1, "addGrants": []string{"forms.read"}}})
		// It grants only what it holds (R7): not truora.keys.
		r = e.fails("FORBIDDEN", mgrTok, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Key admins", "grants": []string{"truora.keys"}}})
		if !strings.Contains(r.Get("errors.0.extensions.missingPermissions").String(), "truora.keys") {
			t.Fatalf("missingPermissions: %s", r)
		}

		// Members without truora.roles still cannot.
		for name, tok := range map[string]string{"default_access": analyst, "products.all": opsTok} {
			r := e.fails("FORBIDDEN", tok, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "By " + name}})
			if !strings.Contains(r.Get("errors.0.extensions.missingPermissions").String(), "iam.roles.manage") {
				t.Errorf("%s: %s", name, r)
			}
		}
		// The two default roles always exist.
		for _, key := range []string{"full_access", "default_access"} {
			e.fails("FORBIDDEN", mgrTok, deleteRole, map[string]any{"in": map[string]any{"roleId": a.Roles[key]}})
			e.fails("FORBIDDEN", a.Owner, deleteRole, map[string]any{"in": map[string]any{"roleId": a.Roles[key]}})
		}

		// Taken back by Support: the role loses truora.roles, its holder role
		// management (A4), and nobody edits custom roles any more.
		e.ok(e.Operator, trRemovePerms, map[string]any{"id": a.ID, "p": []string{"truora.roles"}})
		if g := gjsonStrings(e.ok(e.Operator, `query($id: ID!) { node(id: $id) { ... on Role { grants } } }`, map[string]any{"id": managers}).Get("data.node.grants").Array()); slices.Contains(g, "truora.roles") {
			t.Errorf("the role keeps truora.roles: %v", g)
		}
		e.fails("FORBIDDEN", mgrTok, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Too late"}})
		notEnabled(e.fails("FEATURE_NOT_AVAILABLE", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Too late"}}))
		notEnabled(e.fails("FEATURE_NOT_AVAILABLE", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": analysts, "expectedVersion": 2, "addGrants": []string{"forms.create"}}}))
		if n := e.auditCount(a.ID, "role.created") + e.auditCount(a.ID, "role.updated"); n != 5 {
			t.Errorf("L1: %d role events, want the 4 creations and 1 update that went through", n)
		}
	})
}

// "Select a role in the list ... You can adjust its permissions, name,
// description, and copy from existing role, as needed" (R4): updateRole with
// copyFromRoleId replaces the role's permissions with the other role's,
// addGrants and removeGrants applying after, within what the editor holds.
func TestTruora_EditRoleCopiesFromAnExistingRole(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-copy")
		trEnableRoles(e, a)
		checks := e.createRole(a.Owner, a.ID, "Checks", []string{"checks.check.read", "checks.pdf.read"})
		flows := e.createRole(a.Owner, a.ID, "Flows", []string{"identity.flows.read"})
		holder := e.addMember(a.Owner, a.ID, "flows@tru-copy.test", flows)
		r := e.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": flows, "expectedVersion": 1,
			"name": "Checks and forms", "description": "Checks, as the Checks role, and forms", "copyFromRoleId": checks,
			"addGrants": []string{"forms.read"}, "removeGrants": []string{"checks.pdf.read"}}})
		sameStrings(t, "grants after the copy", gjsonStrings(r.Get("data.updateRole.role.grants").Array()), []string{"checks.check.read", "forms.read"})
		if r.Get("data.updateRole.role.version").Int() != 2 {
			t.Errorf("version: %s", r)
		}
		sameStrings(t, "the holder at once", e.permissionsOf(holder), []string{"checks.check.read", "forms.read"})
		// Copying default_access copies what it gives, not its `*`.
		r = e.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": flows, "expectedVersion": 2, "copyFromRoleId": a.Roles["default_access"]}})
		grants := gjsonStrings(r.Get("data.updateRole.role.grants").Array())
		if contains(grants, "*") || contains(grants, "truora.users") || !contains(grants, "forms.read") {
			t.Errorf("copy of default_access: %v", grants)
		}
		sameStrings(t, "copy of default_access", gjsonStrings(r.Get("data.updateRole.role.effectivePermissions").Array()),
			e.roleEffective(e.Operator, a.ID, "default_access"))
		// Not with grants; not from another account's role; not beyond what the editor holds (R7).
		e.fails("BAD_USER_INPUT", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": flows, "expectedVersion": 3, "copyFromRoleId": checks, "grants": []string{"forms.read"}}})
		other := e.newTemplateAccount("truora", "tru-copy2")
		e.fails("NOT_FOUND", a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": flows, "expectedVersion": 3, "copyFromRoleId": other.Roles["full_access"]}})
		e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": holder, "roleIds": []string{checks}}})
		editor := e.createRole(a.Owner, a.ID, "Role editor", []string{"truora.roles", "checks.check.read", "checks.pdf.read"})
		e.addMember(a.Owner, a.ID, "editor@tru-copy.test", editor)
		r = e.fails("FORBIDDEN", userToken(t, "editor@tru-copy.test"), updateRole, map[string]any{"in": map[string]any{"roleId": checks, "expectedVersion": 1, "copyFromRoleId": a.Roles["full_access"]}})
		if !contains(gjsonStrings(r.Get("errors.0.extensions.missingPermissions").Array()), "*") {
			t.Errorf("copying full_access needs `*`: %s", r)
		}
	})
}

// "Each user has exactly one role assigned. One role can be assigned to many
// users" (A2 SINGLE, M2).
func TestTruora_ExactlyOneRolePerMember(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-single")
		trEnableRoles(e, a)
		agents := e.createRole(a.Owner, a.ID, "Agents", []string{"connect.whatsapp.agents.access"})
		m1, _ := trAdd(e, a.Owner, a.ID, "one@tru-single.test")
		m2, _ := trAdd(e, a.Owner, a.ID, "two@tru-single.test")
		for name, roles := range map[string][]string{"two roles": {agents, a.Roles["default_access"]}, "no role": {}} {
			r := e.fails("BAD_USER_INPUT", a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m1, "roleIds": roles}})
			if r.Get("errors.0.extensions.reason").String() != "SINGLE_ROLE" {
				t.Errorf("%s: %s", name, r)
			}
		}
		e.fails("BAD_USER_INPUT", a.Owner, trAddMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "three@tru-single.test",
			"roleKeys": []string{"agents", "default_access"}}})
		// An empty list names no role, for addMember as for setMemberRoles;
		// naming none at all gives default_access.
		r := e.fails("BAD_USER_INPUT", a.Owner, trAddMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "four@tru-single.test", "roleKeys": []string{}}})
		if r.Get("errors.0.extensions.reason").String() != "SINGLE_ROLE" {
			t.Errorf("addMember with no role: %s", r)
		}
		r = e.ok(a.Owner, trAddMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "four@tru-single.test"}})
		if got := r.Get("data.addMember.member.roles.#.key").String(); got != `["default_access"]` {
			t.Errorf("a new user's role: %s", got)
		}
		// Updating the role replaces it; the same role goes to many members.
		for _, m := range []string{m1, m2} {
			r := e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleIds": []string{agents}}})
			if got := r.Get("data.setMemberRoles.member.roles.#.key").String(); got != `["agents"]` {
				t.Fatalf("roles after update: %s", got)
			}
		}
		if n := trRole(e, a.ID, "agents").Get("data.account.role.holderCount").Int(); n != 2 {
			t.Fatalf("holders of agents: %d", n)
		}
		sameStrings(t, "agent's permissions", e.permissionsOf(m1), []string{"connect.whatsapp.agents.access"})
		if n := trRole(e, a.ID, "default_access").Get("data.account.role.holderCount").Int(); n != 1 {
			t.Fatalf("default_access kept its holders: %d", n)
		}
	})
}

// "The first user created when your account is set up is automatically
// assigned the full_access role. There must always be at least one active
// user with the full_access role" (A1, M3).
func TestTruora_FirstUserIsFullAccessAndTheLastCannotLeave(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-owner")
		if a.Created.Get("data.createAccount.owner.status").String() != "ACTIVE" ||
			a.Created.Get("data.createAccount.owner.roles.#.key").String() != `["full_access"]` {
			t.Fatalf("first user: %s", a.Created)
		}
		lastOwner := func(r resp) {
			t.Helper()
			if r.Get("errors.0.extensions.reason").String() != "LAST_OWNER" {
				t.Errorf("want LAST_OWNER: %s", r)
			}
		}
		demote := map[string]any{"in": map[string]any{"memberId": a.OwnerID, "roleKeys": []string{"default_access"}}}
		lastOwner(e.fails("CONFLICT", a.Owner, setRoles, demote))
		lastOwner(e.fails("CONFLICT", e.Operator, setRoles, demote))
		lastOwner(e.fails("CONFLICT", a.Owner, suspend, map[string]any{"id": a.OwnerID}))
		lastOwner(e.fails("CONFLICT", a.Owner, remove, map[string]any{"id": a.OwnerID}))

		// With a second full_access user, the first may step down; then the second is the last.
		second, secondTok := trAdd(e, a.Owner, a.ID, "second@tru-owner.test", "full_access")
		e.ok(secondTok, setRoles, demote)
		if got := gjsonStrings(e.ok(e.Operator, `query($id: ID!) { node(id: $id) { ... on Member { roles { key } } } }`, map[string]any{"id": a.OwnerID}).Get("data.node.roles.#.key").Array()); !slices.Equal(got, []string{"default_access"}) {
			t.Fatalf("first user after stepping down: %v", got)
		}
		lastOwner(e.fails("CONFLICT", secondTok, setRoles, map[string]any{"in": map[string]any{"memberId": second, "roleKeys": []string{"default_access"}}}))
		// A suspended full_access user is not an active one: it does not count.
		third, _ := trAdd(e, secondTok, a.ID, "third@tru-owner.test", "full_access")
		e.ok(secondTok, suspend, map[string]any{"id": third})
		lastOwner(e.fails("CONFLICT", secondTok, remove, map[string]any{"id": second}))
		if !contains(e.permissionsOf(second), "truora.users") {
			t.Fatal("the last active full_access user lost it")
		}
	})
}

// "When an API Key is created, it inherits the role permissions of the user
// who created it — at the time the key was created" (S2, S3).
func TestTruora_KeyInheritsItsCreatorsPermissionsAtCreation(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-keys")
		trEnableRoles(e, a)
		integrations := e.createRole(a.Owner, a.ID, "Integrations", []string{"truora.keys", "identity.flows.read", "checks.check.read"})
		dev, tok := e.addMember(a.Owner, a.ID, "dev@tru-keys.test", integrations), userToken(t, "dev@tru-keys.test")
		creator := e.permissionsOf(dev)
		sameStrings(t, "creator", creator, withImplied("checks.check.read", "iam.keys.manage", "iam.keys.read", "identity.flows.read", "truora.keys"))

		r := e.ok(tok, trCreateKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "backend"}})
		key, secret := r.Get("data.createApiKey.apiKey.id").String(), r.Get("data.createApiKey.secret").String()
		sameStrings(t, "key at creation", gjsonStrings(r.Get("data.createApiKey.apiKey.permissions").Array()), creator)

		// The creator's role changes later, both ways: their role is replaced,
		// then the role they left is edited.
		e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": dev, "roleKeys": []string{"default_access"}}})
		e.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": integrations, "expectedVersion": 1,
			"removeGrants": []string{"identity.flows.read"}, "addGrants": []string{"forms.read"}}})
		now := e.permissionsOf(dev)
		if !contains(now, "identity.flows.read") || contains(now, "truora.keys") || !contains(now, "forms.read") {
			t.Fatalf("creator after the change: %v", now)
		}
		sameStrings(t, "key after the creator's change", gjsonStrings(e.ok(e.Operator, trKeyPerms, map[string]any{"id": key}).Get("data.node.permissions").Array()), creator)
		// Its decisions follow the snapshot, not the creator.
		for p, want := range map[string]bool{"checks.check.read": true, "truora.keys": true, "forms.read": false, "validations.validation.read": false} {
			if got := e.ok(secret, trCan, map[string]any{"a": a.ID, "p": p}).Get("data.authorize.allowed").Bool(); got != want {
				t.Errorf("key and %s: allowed %v, want %v", p, got, want)
			}
		}
		// A default_access member cannot create keys at all (truora.keys is left out).
		e.fails("FORBIDDEN", tok, trCreateKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "again"}})
	})
}

// Adding or removing permissions of the account is a "Request to Support
// team": only the operator changes the master list (P1, A4).
func TestTruora_OnlyTheOperatorChangesTheMasterList(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-master")
		before := trMaster(e, a.ID)
		ownerKey := e.ok(a.Owner, trCreateKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "owner"}}).Get("data.createApiKey.secret").String()
		// Neither the full_access owner nor a key holding all of its permissions.
		for _, cred := range []string{a.Owner, ownerKey} {
			e.fails("FORBIDDEN", cred, trAddPerms, map[string]any{"id": a.ID, "p": []string{"truora.roles"}})
			e.fails("FORBIDDEN", cred, trRemovePerms, map[string]any{"id": a.ID, "p": []string{"forms.read"}})
			e.fails("FORBIDDEN", cred, `mutation($id: ID!) { updateAccount(input: {accountId: $id, features: {resourceConstraints: true}}) { account { id } } }`, map[string]any{"id": a.ID})
		}
		sameStrings(t, "master list after refused changes", trMapKeys(trMaster(e, a.ID)), trMapKeys(before))
		e.ok(e.Operator, trAddPerms, map[string]any{"id": a.ID, "p": []string{"truora.roles"}})
		if _, ok := trMaster(e, a.ID)["truora.roles"]; !ok {
			t.Fatal("the operator's addition is missing")
		}
		if e.auditCount(a.ID, "account.permissions.added") != 1 {
			t.Errorf("master list change audited %d times", e.auditCount(a.ID, "account.permissions.added"))
		}
	})
}

// products.all — "Access all Truora products (excluding user, keys, and roles
// administration)" — implies the product areas and nothing of truora.* or
// iam.* (K4).
func TestTruora_ProductsAllImpliesTheProductAreas(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-products")
		e.ok(e.Operator, trAddPerms, map[string]any{"id": a.ID, "p": []string{"truora.roles"}})
		role := e.createRole(a.Owner, a.ID, "All products", []string{"products.all"})
		m := e.addMember(a.Owner, a.ID, "ops@tru-products.test", role)
		areas := []string{"identity.", "validations.", "checks.", "history_reports.", "connect.", "client_media.", "forms."}
		want := append(trGrantKeys(trMaster(e, a.ID), func(k string) bool {
			return slices.ContainsFunc(areas, func(p string) bool { return strings.HasPrefix(k, p) })
		}), "products.all")
		got := e.permissionsOf(m)
		sameStrings(t, "products.all", got, want)
		for _, k := range got {
			if strings.HasPrefix(k, "truora.") || strings.HasPrefix(k, "iam.") {
				t.Errorf("products.all gives %s", k)
			}
		}
		for _, k := range []string{"identity.flows.create", "identity.whatsapp.outbound.send", "validations.face_search", "checks.country_co_premium", "forms.responses.create"} {
			if !contains(got, k) {
				t.Errorf("products.all lacks %s", k)
			}
		}
		// The decision explains the implication.
		r := e.decide(e.Operator, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": m}, "permission": "identity.flows.create"})
		if r.Get("data.authorize.grantedBy.grant").String() != "products.all" || !strings.Contains(r.Get("data.authorize.grantedBy.chain").String(), "products.all") {
			t.Errorf("grant path: %s", r)
		}
		for _, p := range []string{"truora.users", "truora.keys", "truora.roles"} {
			r := e.decide(e.Operator, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": m}, "permission": p})
			if r.Get("data.authorize.allowed").Bool() || r.Get("data.authorize.reason").String() != "NOT_GRANTED" {
				t.Errorf("products.all and %s: %s", p, r)
			}
		}
	})
}

// validations.documents_validation_all and checks.country_all — "all
// configured regions" — imply exactly the per-country keys (K4).
func TestTruora_AllRegionsImplyThePerCountryKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-regions")
		trEnableRoles(e, a)
		cases := []struct {
			grant, prefix string
			countries     []string
		}{
			{"validations.documents_validation_all", "validations.documents_validation_",
				[]string{"sv", "ar", "co", "mx", "br", "pa", "cl", "pe", "cr", "ve", "bo", "ec", "do"}},
			{"checks.country_all", "checks.country_", []string{"co", "cl", "br", "bo", "mx", "pa", "cr", "ar", "ec", "pe"}},
		}
		for _, c := range cases {
			role := e.createRole(a.Owner, a.ID, "All of "+c.grant, []string{c.grant})
			want := []string{c.grant}
			for _, cc := range c.countries {
				want = append(want, c.prefix+cc)
			}
			sameStrings(t, c.grant, gjsonStrings(e.ok(e.Operator, `query($id: ID!) { node(id: $id) { ... on Role { effectivePermissions } } }`, map[string]any{"id": role}).Get("data.node.effectivePermissions").Array()), want)
		}
		// Colombia premium is a separate product, not a region of checks.country_all.
		role := e.createRole(a.Owner, a.ID, "Checks", []string{"checks.country_all"})
		m := e.addMember(a.Owner, a.ID, "checks@tru-regions.test", role)
		for p, allowed := range map[string]bool{"checks.country_pe": true, "checks.country_co_premium": false} {
			r := e.decide(e.Operator, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": m}, "permission": p})
			if r.Get("data.authorize.allowed").Bool() != allowed {
				t.Errorf("%s: %s", p, r)
			}
		}
	})
}

// Deny masks are set by the Support team only (K6): the owner cannot put one
// on a role; the operator can, and it hides members' emails from its holders.
func TestTruora_DenyMasksAreSetBySupport(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truora", "tru-masks")
		trEnableRoles(e, a)
		users := e.createRole(a.Owner, a.ID, "User admins", []string{"truora.users"})
		e.addMember(a.Owner, a.ID, "users@tru-masks.test", users)
		tok := userToken(t, "users@tru-masks.test")
		add := map[string]any{"in": map[string]any{"roleId": users, "expectedVersion": 1, "addGrants": []string{"mask:member.email"}}}
		r := e.fails("FORBIDDEN", a.Owner, updateRole, add)
		if r.Get("errors.0.extensions.reason").String() != "DENY_MASK" {
			t.Fatalf("reason: %s", r)
		}
		const emails = `query($id: ID!) { account(id: $id) { members { edges { node { email } } } } }`
		if strings.Contains(e.ok(tok, emails, map[string]any{"id": a.ID}).Get("data.account.members.edges.#.node.email").String(), "null") {
			t.Fatal("emails hidden before the mask")
		}
		e.ok(e.Operator, updateRole, add)
		got := e.ok(tok, emails, map[string]any{"id": a.ID}).Get("data.account.members.edges.#.node.email").String()
		if got != `[null,null]` {
			t.Fatalf("emails under the mask: %s", got)
		}
	})
}

// trMapKeys returns a map's keys, sorted.
func trMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
