package apitest

import (
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// The Truthlocks suite walks through seeds/003 (Truthlocks' RBAC guide) on an
// account created from the `truthlocks` template (A5).

// tlTruthlocksKeys is the document's master list, every permission of its tables.
var tlTruthlocksKeys = []string{
	"attestations:mint", "attestations:read", "attestations:revoke",
	"issuers:read", "issuers:write",
	"users:read", "users:write", "api-keys:read", "api-keys:write",
	"audit:read", "governance:read", "governance:approve", "governance:suspend",
	"webhooks:read", "webhooks:write", "settings:read", "settings:write",
}

var tlAttestations = []string{"attestations:mint", "attestations:read", "attestations:revoke"}

// The template's settings, features and system roles, and the document's
// wildcards: `attestations:*` is exactly the three attestation permissions,
// and `*` — "Tenant Admin: Full access to all resources within the tenant,
// * (superadmin)" — is the whole master list, following it (K3, K5, R2).
// Tenant Admin is the owner role: one `*` role, not two.
func TestTruthlocks_WildcardsAndSystemRoles(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truthlocks", "tl-wild")
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { template settings { roleAssignment } features { customRoles resourceConstraints }
			roles(first: 100, orderBy: {field: POSITION}) { edges { node { key name kind } } }
			permissions(first: 100) { edges { node { key } } } } }`, map[string]any{"id": a.ID})
		acc := r.Get("data.account")
		if acc.Get("template").String() != "truthlocks" || acc.Get("settings.roleAssignment").String() != "MULTIPLE" ||
			!acc.Get("features.customRoles").Bool() || !acc.Get("features.resourceConstraints").Bool() {
			t.Fatalf("template settings (A2, A3): %s", acc)
		}
		sameStrings(t, "master list", gjsonStrings(acc.Get("permissions.edges.#.node.key").Array()), append(slices.Clone(tlTruthlocksKeys), builtinPermissions...))
		var roles []string
		for _, n := range acc.Get("roles.edges.#.node").Array() {
			if n.Get("kind").String() != "SYSTEM" {
				t.Errorf("R2: role %s is %s, the document's roles are system roles", n.Get("key"), n.Get("kind"))
			}
			roles = append(roles, n.Get("key").String())
		}
		if want := []string{"full_access", "org_admin", "issuer_admin", "auditor"}; !slices.Equal(roles, want) {
			t.Fatalf("roles in order: %v, want %v", roles, want)
		}
		if n := acc.Get(`roles.edges.#(node.key=="full_access").node.name`).String(); n != "Tenant Admin" {
			t.Errorf("the owner role is Tenant Admin: %q", n)
		}
		if a.Created.Get("data.createAccount.owner.roles.#.key").String() != `["full_access"]` {
			t.Errorf("the first user is Tenant Admin: %s", a.Created)
		}

		// The document's system roles, their "key permissions" resolved (K3, K4).
		master := append(slices.Clone(tlTruthlocksKeys), builtinPermissions...)
		sameStrings(t, "Tenant Admin (*)", e.roleEffective(a.Owner, a.ID, "full_access"), master)
		sameStrings(t, "issuer_admin", e.roleEffective(a.Owner, a.ID, "issuer_admin"),
			append([]string{"issuers:read", "issuers:write"}, tlAttestations...))
		// users:read "View users and role assignments", users:write "Invite
		// users, assign roles, remove users", audit:read "Query audit logs".
		sameStrings(t, "org_admin", e.roleEffective(a.Owner, a.ID, "org_admin"), append([]string{
			"issuers:read", "issuers:write", "users:read", "users:write", "audit:read",
			"iam.members.read", "iam.roles.read", "iam.members.invite", "iam.members.roles.assign", "iam.members.remove",
			"iam.audit.read"}, tlAttestations...))
		sameStrings(t, "auditor", e.roleEffective(a.Owner, a.ID, "auditor"),
			[]string{"attestations:read", "issuers:read", "audit:read", "iam.audit.read"})

		// A custom role granting attestations:* holds the three attestation keys and nothing else.
		att := e.ok(a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Attestations", "grants": []string{"attestations:*"}}}).
			Get("data.createRole.role.id").String()
		sameStrings(t, "attestations:*", e.roleEffective(a.Owner, a.ID, "attestations"), tlAttestations)
		m := e.addMember(a.Owner, a.ID, "att@tl-wild.test", att)
		tok := userToken(t, "att@tl-wild.test")
		d := e.decide(tok, map[string]any{"accountId": a.ID, "permission": "attestations:revoke"}).Get("data.authorize")
		if !d.Get("allowed").Bool() || d.Get("grantedBy.roleKey").String() != "attestations" || d.Get("grantedBy.grant").String() != "attestations:*" {
			t.Fatalf("attestations:revoke through attestations:*: %s", d)
		}
		for _, p := range []string{"issuers:read", "governance:approve", "audit:read"} {
			d := e.decide(tok, map[string]any{"accountId": a.ID, "permission": p}).Get("data.authorize")
			if d.Get("allowed").Bool() || d.Get("reason").String() != "NOT_GRANTED" {
				t.Errorf("attestations:* must not reach %s: %s", p, d)
			}
		}

		// Wildcards follow the master list: a new attestation permission the
		// operator adds reaches attestations:* and * at once, and nothing else (A4, K3).
		e.ok(e.Operator, defineCatalog, map[string]any{"p": []map[string]any{{"key": "attestations:export", "group": "Attestations"}}})
		e.ok(e.Operator, `mutation($in: AccountPermissionsInput!) { addAccountPermissions(input: $in) { account { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "permissions": []string{"attestations:export"}}})
		sameStrings(t, "attestations:* after the master list grew", e.permissionsOf(m), append([]string{"attestations:export"}, tlAttestations...))
		if !contains(e.roleEffective(a.Owner, a.ID, "full_access"), "attestations:export") {
			t.Error("Tenant Admin (*) does not follow the master list")
		}
		if contains(e.roleEffective(a.Owner, a.ID, "auditor"), "attestations:export") {
			t.Error("auditor grants concrete keys and must not gain attestations:export")
		}
	})
}

// R2: "System roles cannot be edited or deleted" — the four Truthlocks roles
// (Tenant Admin being full_access), by the owner and by the operator alike.
func TestTruthlocks_SystemRolesLocked(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truthlocks", "tl-lock")
		for _, key := range []string{"full_access", "org_admin", "issuer_admin", "auditor"} {
			id := a.Roles[key]
			for _, cred := range []string{a.Owner, e.Operator} {
				r := e.fails("FORBIDDEN", cred, updateRole, map[string]any{"in": map[string]any{"roleId": id, "expectedVersion": 1,
					"name": "Renamed", "addGrants": []string{"governance:approve"}}})
				if r.Get("errors.0.extensions.reason").String() != "SYSTEM_ROLE" || !strings.Contains(r.Get("errors.0.message").String(), key) {
					t.Errorf("updateRole %s: %s", key, r)
				}
				r = e.fails("FORBIDDEN", cred, deleteRole, map[string]any{"in": map[string]any{"roleId": id}})
				if r.Get("errors.0.extensions.reason").String() != "SYSTEM_ROLE" {
					t.Errorf("deleteRole %s: %s", key, r)
				}
			}
			r := e.ok(a.Owner, `query($id: ID!) { node(id: $id) { ... on Role { key name version kind } } }`, map[string]any{"id": id})
			if r.Get("data.node.version").Int() != 1 || r.Get("data.node.name").String() == "Renamed" || r.Get("data.node.kind").String() != "SYSTEM" {
				t.Errorf("a refused change was written to %s: %s", key, r)
			}
		}
		if n := e.auditCount(a.ID, "role.updated") + e.auditCount(a.ID, "role.deleted"); n != 0 {
			t.Errorf("L1: refused changes wrote %d audit events", n)
		}
	})
}

// tlConstraint is the document's issuer constraint.
var tlConstraint = []map[string]any{{"attribute": "issuer_ids", "values": []string{"iss_1", "iss_2"}}}

// R1, D3, A3: the document's `attestation_minter` custom role, constrained to
// issuers iss_1 and iss_2, mints only for those issuers; without the
// resourceConstraints feature such a role cannot be created.
func TestTruthlocks_IssuerConstrainedCustomRole(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truthlocks", "tl-cons")
		r := e.ok(a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id key kind grants constraints { attribute values } } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "key": "attestation_minter", "name": "attestation_minter",
				"description": "Can only mint attestations for specific issuers",
				"grants":      []string{"attestations:mint"}, "constraints": tlConstraint}})
		role := r.Get("data.createRole.role")
		if role.Get("key").String() != "attestation_minter" || role.Get("kind").String() != "CUSTOM" ||
			role.Get("constraints").Raw != `[{"attribute":"issuer_ids","values":["iss_1","iss_2"]}]` {
			t.Fatalf("constrained role: %s", r)
		}
		m := e.addMember(a.Owner, a.ID, "minter@tl-cons.test", role.Get("id").String())
		tok := userToken(t, "minter@tl-cons.test")
		mint := func(resource []map[string]any) gjson.Result {
			in := map[string]any{"accountId": a.ID, "permission": "attestations:mint"}
			if resource != nil {
				in["resource"] = resource
			}
			return e.decide(tok, in).Get("data.authorize")
		}
		issuer := func(id string) []map[string]any { return []map[string]any{{"attribute": "issuer_ids", "value": id}} }
		for _, iss := range []string{"iss_1", "iss_2"} {
			if d := mint(issuer(iss)); !d.Get("allowed").Bool() || d.Get("reason").String() != "GRANTED" ||
				d.Get("grantedBy.roleKey").String() != "attestation_minter" {
				t.Errorf("mint for %s: %s", iss, d)
			}
		}
		if d := mint(issuer("iss_3")); d.Get("allowed").Bool() || d.Get("reason").String() != "CONSTRAINT_MISMATCH" {
			t.Errorf("D3: mint for iss_3: %s", d)
		}
		if d := mint(nil); d.Get("allowed").Bool() || d.Get("reason").String() != "CONSTRAINT_MISMATCH" {
			t.Errorf("D3: missing attribute is not satisfied: %s", d)
		}
		if d := mint([]map[string]any{{"attribute": "org_ids", "value": "iss_1"}}); d.Get("allowed").Bool() || d.Get("reason").String() != "CONSTRAINT_MISMATCH" {
			t.Errorf("D3: another attribute does not satisfy issuer_ids: %s", d)
		}
		// The operator asks about the member the same way (D1).
		d := e.decide(e.Operator, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": m},
			"permission": "attestations:mint", "resource": issuer("iss_3")}).Get("data.authorize")
		if d.Get("allowed").Bool() || d.Get("reason").String() != "CONSTRAINT_MISMATCH" {
			t.Errorf("D1: operator's question about iss_3: %s", d)
		}

		// The feature is the operator's (A3); turned off, constrained roles are refused.
		const features = `mutation($in: UpdateAccountInput!) { updateAccount(input: $in) { account { features { customRoles resourceConstraints } } } }`
		off := map[string]any{"in": map[string]any{"accountId": a.ID, "features": map[string]any{"resourceConstraints": false}}}
		e.fails("FORBIDDEN", a.Owner, features, off)
		r = e.ok(e.Operator, features, off)
		if r.Get("data.updateAccount.account.features").Raw != `{"customRoles":true,"resourceConstraints":false}` {
			t.Fatalf("features: %s", r)
		}
		r = e.fails("FEATURE_NOT_AVAILABLE", a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID,
			"name": "regional_auditor", "grants": []string{"attestations:read", "issuers:read", "audit:read"},
			"constraints": []map[string]any{{"attribute": "issuer_ids", "values": []string{"eu-issuer-uuid-1"}}}}})
		if r.Get("errors.0.extensions.feature").String() != "resourceConstraints" {
			t.Errorf("feature named: %s", r)
		}
		// Custom roles without constraints are on every plan.
		e.createRole(a.Owner, a.ID, "Developer", []string{"attestations:read"})
		if e.auditCount(a.ID, "role.created") != 2 {
			t.Error("L1: the refused role was audited or written")
		}
	})
}

// A2 MULTIPLE: "A user can have multiple roles" — issuer_admin and auditor
// together give the union of their permissions, and taking one away takes
// away what only it gave.
func TestTruthlocks_SeveralRolesPerUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truthlocks", "tl-multi")
		m := e.addMember(a.Owner, a.ID, "ivan@tl-multi.test", a.Roles["issuer_admin"])
		tok := userToken(t, "ivan@tl-multi.test")
		e.fails("FORBIDDEN", tok, `query($id: ID!) { account(id: $id) { auditEvents(first: 1) { totalCount } } }`, map[string]any{"id": a.ID})

		r := e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{"issuer_admin", "auditor"}}})
		sameStrings(t, "roles", gjsonStrings(r.Get("data.setMemberRoles.member.roles.#.key").Array()), []string{"issuer_admin", "auditor"})
		sameStrings(t, "union of issuer_admin and auditor", e.permissionsOf(m), append([]string{
			"issuers:read", "issuers:write", "audit:read", "iam.audit.read"}, tlAttestations...))
		// What auditor adds works at once: audit:read implies iam.audit.read (K4).
		e.ok(tok, `query($id: ID!) { account(id: $id) { auditEvents(first: 1) { totalCount } } }`, map[string]any{"id": a.ID})
		d := e.decide(tok, map[string]any{"accountId": a.ID, "permission": "audit:read"}).Get("data.authorize")
		if !d.Get("allowed").Bool() || d.Get("grantedBy.roleKey").String() != "auditor" {
			t.Errorf("audit:read through auditor: %s", d)
		}

		r = e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{"auditor"}}})
		sameStrings(t, "roles after dropping issuer_admin", gjsonStrings(r.Get("data.setMemberRoles.member.roles.#.key").Array()), []string{"auditor"})
		sameStrings(t, "auditor alone", e.permissionsOf(m), []string{"attestations:read", "issuers:read", "audit:read", "iam.audit.read"})
		if d := e.decide(tok, map[string]any{"accountId": a.ID, "permission": "attestations:mint"}).Get("data.authorize"); d.Get("allowed").Bool() {
			t.Errorf("mint after losing issuer_admin: %s", d)
		}
		// Zero roles is allowed too in MULTIPLE accounts.
		r = e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{}}})
		if r.Get("data.setMemberRoles.member.roles.#").Int() != 0 || len(e.permissionsOf(m)) != 0 {
			t.Errorf("no roles: %s", r)
		}
	})
}

// L1, as Truthlocks attributes actions: an API key's change is logged as the
// key's id, a user's change as the user's email.
func TestTruthlocks_AuditAttribution(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truthlocks", "tl-audit")
		olga := e.addMember(a.Owner, a.ID, "olga@tl-audit.test", a.Roles["org_admin"])
		aude := e.addMember(a.Owner, a.ID, "aude@tl-audit.test", a.Roles["auditor"])
		// A server-to-server key of the owner's, scoped to user management and the auditor's permissions.
		r := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "provisioning",
			"permissions": []string{"users:write", "users:read", "attestations:read", "issuers:read", "audit:read"}})
		keyID, secret := r.Get("data.createApiKey.apiKey.id").String(), r.Get("data.createApiKey.secret").String()

		byKey := e.addMember(secret, a.ID, "by-key@tl-audit.test", a.Roles["auditor"])
		byUser := e.addMember(userToken(t, "olga@tl-audit.test"), a.ID, "by-user@tl-audit.test", a.Roles["auditor"])
		e.ok(userToken(t, "olga@tl-audit.test"), setRoles, map[string]any{"in": map[string]any{"memberId": byKey, "roleKeys": []string{"auditor", "issuer_admin"}}})
		e.ok(secret, setRoles, map[string]any{"in": map[string]any{"memberId": byUser, "roleKeys": []string{}}})

		// The auditor reads the log (audit:read implies iam.audit.read).
		const q = `query($id: ID!, $w: AuditEventWhereInput) { account(id: $id) { auditEvents(first: 10, where: $w) {
			edges { node { action actorType actorID actorLabel targetID } } } } }`
		events := func(w map[string]any) []gjson.Result {
			return e.ok(userToken(t, "aude@tl-audit.test"), q, map[string]any{"id": a.ID, "w": w}).Get("data.account.auditEvents.edges.#.node").Array()
		}
		// actorID names the user acting through the membership (usr_…).
		userIDs := func(memberID string) []string {
			r := e.ok(e.Operator, `query($id: ID!) { node(id: $id) { ... on Member { user { id } } } }`, map[string]any{"id": memberID})
			id := r.Get("data.node.user.id").String()
			if !strings.HasPrefix(id, "usr_") {
				t.Fatalf("user of %s: %s", memberID, r)
			}
			return []string{id}
		}
		type ev struct{ action, actorType, actorLabel, target string }
		byAction := func(x, y ev) int { return strings.Compare(x.action+x.target, y.action+y.target) }
		got := func(w map[string]any, actorIDs []string) []ev {
			var out []ev
			for _, n := range events(w) {
				if !slices.Contains(actorIDs, n.Get("actorID").String()) {
					t.Errorf("actorID of %s: want %v", n, actorIDs)
				}
				out = append(out, ev{n.Get("action").String(), n.Get("actorType").String(), n.Get("actorLabel").String(), n.Get("targetID").String()})
			}
			slices.SortFunc(out, byAction)
			return out
		}
		want := []ev{
			{"member.added", "API_KEY", keyID, byKey},
			{"member.roles.changed", "API_KEY", keyID, byUser},
		}
		slices.SortFunc(want, byAction)
		if g := got(map[string]any{"actorLabel": keyID}, []string{keyID}); !slices.Equal(g, want) {
			t.Errorf("changes made with the key:\n got  %v\n want %v", g, want)
		}
		want = []ev{
			{"member.added", "USER", "olga@tl-audit.test", byUser},
			{"member.roles.changed", "USER", "olga@tl-audit.test", byKey},
		}
		slices.SortFunc(want, byAction)
		if g := got(map[string]any{"actorLabel": "olga@tl-audit.test"}, userIDs(olga)); !slices.Equal(g, want) {
			t.Errorf("changes made by the user:\n got  %v\n want %v", g, want)
		}
		// The owner's own changes carry the owner's email, never a key id.
		want = []ev{{"member.added", "USER", a.OwnerEmail, olga}, {"member.added", "USER", a.OwnerEmail, aude}}
		slices.SortFunc(want, byAction)
		if g := got(map[string]any{"targetIDIn": []string{olga, aude}}, userIDs(a.OwnerID)); !slices.Equal(g, want) {
			t.Errorf("changes made by the owner:\n got  %v\n want %v", g, want)
		}
	})
}

// V1 with the document's rule, "Don't give one role both attestations:mint
// and governance:approve": ENFORCE at MEMBER level refuses any assignment
// that joins them, naming the rule; REPORT lists the violation in reviews.
func TestTruthlocks_SeparationOfDuty(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truthlocks", "tl-sod")
		approver := e.createRole(a.Owner, a.ID, "Governance Approver", []string{"governance:read", "governance:approve"})
		m := e.addMember(a.Owner, a.ID, "ivan@tl-sod.test", a.Roles["issuer_admin"])
		r := e.ok(a.Owner, createSod, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "mint vs approve",
			"permissions": []string{"attestations:mint", "governance:approve"}, "level": "MEMBER", "mode": "ENFORCE"}})
		if r.Get("data.createSodRule.sodRule.mode").String() != "ENFORCE" {
			t.Fatalf("rule: %s", r)
		}
		refused := func(r resp) {
			t.Helper()
			if r.Get("errors.0.extensions.reason").String() != "SOD_VIOLATION" || !strings.Contains(r.Get("errors.0.message").String(), "mint vs approve") {
				t.Errorf("refusal must name the rule: %s", r)
			}
		}
		refused(e.fails("CONFLICT", a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleIds": []string{a.Roles["issuer_admin"], approver}}}))
		sameStrings(t, "roles after the refusal", e.permissionsOf(m), append([]string{"issuers:read", "issuers:write"}, tlAttestations...))
		// Tenant Admin (*) holds both too, but is the owner role (full_access),
		// which MEMBER rules except: owners must be able to hand it on (M3, M4).
		e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{"full_access"}}})
		e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{"issuer_admin"}}})
		refused(e.fails("CONFLICT", a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "both@tl-sod.test",
			"roleIds": []string{approver, a.Roles["org_admin"]}}}))
		if e.auditCount(a.ID, "member.roles.changed") != 2 || e.auditCount(a.ID, "member.added") != 1 {
			t.Error("L1: a refused change was audited")
		}
		// Either duty alone is fine.
		e.addMember(a.Owner, a.ID, "gov@tl-sod.test", approver)

		// REPORT: the change goes through and the review shows who breaks the rule.
		b := e.newTemplateAccount("truthlocks", "tl-sodr")
		approverB := e.createRole(b.Owner, b.ID, "Governance Approver", []string{"governance:approve"})
		e.ok(b.Owner, createSod, map[string]any{"in": map[string]any{"accountId": b.ID, "name": "mint vs approve",
			"permissions": []string{"attestations:mint", "governance:approve"}, "level": "MEMBER", "mode": "REPORT"}})
		both := e.addMember(b.Owner, b.ID, "both@tl-sodr.test", b.Roles["issuer_admin"], approverB)
		e.addMember(b.Owner, b.ID, "ivan@tl-sodr.test", b.Roles["issuer_admin"])
		r = e.ok(b.Owner, review, map[string]any{"id": b.ID, "since": "2000-01-01T00:00:00Z"})
		v := r.Get("data.account.accessReview.sodViolations")
		if v.Get("#").Int() != 1 || v.Get("0.rule.name").String() != "mint vs approve" || v.Get("0.members.#.id").String() != `["`+both+`"]` ||
			v.Get("0.roles.#").Int() != 0 {
			t.Errorf("V3: the review lists the one member breaking the rule (owner excepted): %s", v)
		}
	})
}

// "Least Privilege: Grant only the permissions needed for each role", and
// "Assignments: Binding users or API keys to roles": a user added without a
// role holds nothing — not attestations:mint, not webhooks:write — until
// roles are bound to them (M2).
func TestTruthlocks_NewUsersHoldNothingUntilRolesAreBound(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truthlocks", "tl-least")
		r := e.ok(a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "new@tl-least.test"}})
		m := r.Get("data.addMember.member.id").String()
		if r.Get("data.addMember.member.roles").Raw != "[]" || len(e.permissionsOf(m)) != 0 {
			t.Fatalf("a new user: %s, %v", r, e.permissionsOf(m))
		}
		tok := userToken(t, "new@tl-least.test")
		for _, p := range []string{"attestations:mint", "attestations:revoke", "issuers:write", "webhooks:write", "attestations:read"} {
			if d := e.decide(tok, map[string]any{"accountId": a.ID, "permission": p}).Get("data.authorize"); d.Get("allowed").Bool() || d.Get("reason").String() != "NOT_GRANTED" {
				t.Errorf("a new user and %s: %s", p, d)
			}
		}
		// The same with an empty list; then roles are bound.
		e.ok(a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "empty@tl-least.test", "roleKeys": []string{}}})
		e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{"auditor"}}})
		sameStrings(t, "after binding Auditor", e.permissionsOf(m), []string{"attestations:read", "issuers:read", "audit:read", "iam.audit.read"})
	})
}

// users:write — "Invite users, assign roles, remove users" — and
// api-keys:write — "Create and revoke API keys" — give exactly those actions
// (K7): a user administrator invites, assigns and removes but does not
// suspend; a key administrator creates and revokes keys.
func TestTruthlocks_UserAndKeyAdministrationAsNamed(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truthlocks", "tl-admin")
		admins := e.createRole(a.Owner, a.ID, "User admins", []string{"users:write", "users:read", "attestations:read", "issuers:read", "audit:read"})
		e.addMember(a.Owner, a.ID, "ua@tl-admin.test", admins)
		ua := userToken(t, "ua@tl-admin.test")
		m := e.addMember(ua, a.ID, "aude@tl-admin.test", a.Roles["auditor"])
		e.ok(ua, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{}}})
		e.ok(ua, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{"auditor"}}})
		// Assigning is bounded by what the administrator holds (R7).
		r := e.fails("FORBIDDEN", ua, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{"issuer_admin"}}})
		if !strings.Contains(r.Get("errors.0.extensions.missingPermissions").String(), "attestations:mint") {
			t.Errorf("assigning beyond one's own: %s", r)
		}
		r = e.fails("FORBIDDEN", ua, suspend, map[string]any{"id": m})
		if r.Get("errors.0.extensions.missingPermissions").String() != `["iam.members.suspend"]` {
			t.Errorf("suspending: %s", r)
		}
		e.ok(ua, remove, map[string]any{"id": m})
		e.fails("FORBIDDEN", ua, trCreateKey, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "not mine"}})

		keys := e.createRole(a.Owner, a.ID, "Key admins", []string{"api-keys:write", "api-keys:read", "attestations:read"})
		e.addMember(a.Owner, a.ID, "ka@tl-admin.test", keys)
		ka := userToken(t, "ka@tl-admin.test")
		k := e.createKey(ka, map[string]any{"accountId": a.ID, "name": "reader", "permissions": []string{"attestations:read"}}).Get("data.createApiKey.apiKey.id").String()
		r = e.ok(ka, `mutation($in: RevokeApiKeyInput!) { revokeApiKey(input: $in) { apiKey { status } } }`, map[string]any{"in": map[string]any{"apiKeyId": k}})
		if r.Get("data.revokeApiKey.apiKey.status").String() != "REVOKED" {
			t.Errorf("revoke: %s", r)
		}
		e.fails("FORBIDDEN", ka, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "x@tl-admin.test"}})
	})
}

// "Document Custom Roles: Keep a record of why custom roles were created" and
// "Regular Audits: Review role assignments quarterly": the reason given with
// a change is kept in its audit event, for the review and the export (L1, L3).
func TestTruthlocks_WhyACustomRoleWasCreated(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newTemplateAccount("truthlocks", "tl-why")
		const why = "EU issuers audit, requested by compliance (ticket GRC-7)"
		e.ok(a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "regional_auditor",
			"description": "Audit access scoped to EU issuers only", "grants": []string{"attestations:read", "issuers:read", "audit:read"},
			"constraints": []map[string]any{{"attribute": "issuer_ids", "values": []string{"eu-issuer-uuid-1"}}}, "reason": why}})
		m := e.addMember(a.Owner, a.ID, "aude@tl-why.test", a.Roles["auditor"])
		e.ok(a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": m, "roleKeys": []string{"regional_auditor"}, "reason": "quarterly review: EU only"}})
		if got := e.auditReasons(a.Owner, a.ID, "role.created"); !slices.Equal(got, []string{why}) {
			t.Errorf("reason of the role: %q", got)
		}
		if got := e.auditReasons(a.Owner, a.ID, "member.roles.changed"); !slices.Equal(got, []string{"quarterly review: EU only"}) {
			t.Errorf("reason of the assignment: %q", got)
		}
		rows := e.auditCSVRows(a.Owner, a.ID, "?action=role.created")
		sameStrings(t, "the CSV export", csvColumn(t, rows, "reason"), []string{why})
	})
}
