package apitest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

const authorize = `query($in: AuthorizeInput!) { authorize(input: $in) { permission allowed reason masks
	grantedBy { role { key } roleKey grant chain } suggestedRoles { key } } }`

func (e *env) decide(cred string, in map[string]any) resp {
	e.t.Helper()
	return e.ok(cred, authorize, map[string]any{"in": in})
}

func TestD1_AuthorizeExplainsTheGrant(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("d1", nil)
		role := e.createRole(a.Owner, a.ID, "Products", []string{"products.all"})
		m := e.addMember(a.Owner, a.ID, "p@d1.test", role)
		r := e.decide(e.Operator, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": m}, "permission": "identity.flows.create"})
		d := r.Get("data.authorize")
		if !d.Get("allowed").Bool() || d.Get("reason").String() != "GRANTED" || d.Get("grantedBy.role.key").String() != "products" ||
			d.Get("grantedBy.grant").String() != "products.all" || !strings.Contains(d.Get("grantedBy.chain").String(), "products.all") {
			t.Fatalf("grant path: %s", r)
		}
		// By email too.
		r = e.decide(e.Operator, map[string]any{"accountId": a.ID, "subject": map[string]any{"email": "P@d1.test"}, "permission": "checks.background"})
		if !r.Get("data.authorize.allowed").Bool() {
			t.Fatalf("by email: %s", r)
		}
		e.fails("BAD_USER_INPUT", e.Operator, authorize, map[string]any{"in": map[string]any{"accountId": a.ID, "permission": "x"}})
		e.fails("BAD_USER_INPUT", e.Operator, authorize, map[string]any{"in": map[string]any{"accountId": a.ID, "permission": "x", "subject": map[string]any{"memberId": m, "email": "p@d1.test"}}})
	})
}

func TestD1_OtherSubjectsNeedIamAuthorize(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("d1b", nil)
		_, tok := e.keyAdmin(a, "agent@d1b.test", "AgentChat")
		// Anyone may ask about themselves: authorize without subject, and viewer.can.
		r := e.decide(tok, map[string]any{"accountId": a.ID, "permission": "AgentChat"})
		if !r.Get("data.authorize.allowed").Bool() {
			t.Fatalf("self: %s", r)
		}
		r = e.ok(tok, `query($a: ID!) { viewer { can(accountId: $a, permission: "iam.roles.manage") { allowed reason suggestedRoles { key } } } }`, map[string]any{"a": a.ID})
		if r.Get("data.viewer.can.allowed").Bool() || r.Get("data.viewer.can.suggestedRoles.0.key").String() != "full_access" {
			t.Fatalf("viewer.can: %s", r)
		}
		r = e.fails("FORBIDDEN", tok, authorize, map[string]any{"in": map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": a.OwnerID}, "permission": "AgentChat"}})
		if !strings.Contains(r.Get("errors.0.extensions.missingPermissions").String(), "iam.authorize") {
			t.Fatalf("missing iam.authorize: %s", r)
		}
		_, judge := e.keyAdmin(a, "judge@d1b.test", "iam.authorize")
		e.decide(judge, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": a.OwnerID}, "permission": "AgentChat"})
		// Subjects of another account are NOT_FOUND.
		b := e.newAccount("d1c", nil)
		e.fails("NOT_FOUND", e.Operator, authorize, map[string]any{"in": map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": b.OwnerID}, "permission": "AgentChat"}})
		e.fails("NOT_FOUND", judge, authorize, map[string]any{"in": map[string]any{"accountId": b.ID, "subject": map[string]any{"memberId": b.OwnerID}, "permission": "AgentChat"}})
	})
}

func TestD2_EveryReason(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("d2", map[string]any{"features": map[string]any{"resourceConstraints": true}})
		role := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
		active := e.addMember(a.Owner, a.ID, "active@d2.test", role)
		inactive := e.addMember(a.Owner, a.ID, "inactive@d2.test", role)
		e.ok(a.Owner, suspend, map[string]any{"id": inactive})
		scoped := e.ok(a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Scoped", "grants": []string{"attestations:mint"},
				"constraints": []map[string]any{{"attribute": "issuer_ids", "values": []string{"iss_1"}}}}}).Get("data.createRole.role.id").String()
		constrained := e.addMember(a.Owner, a.ID, "scoped@d2.test", scoped)
		k := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "rev", "permissions": []string{"AgentChat"}})
		revoked := k.Get("data.createApiKey.apiKey.id").String()
		e.ok(a.Owner, revokeKey, map[string]any{"id": revoked})
		expiring := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "exp", "permissions": []string{"AgentChat"},
			"expiresAt": timeIn(1200)}).Get("data.createApiKey.apiKey.id").String()
		sleepMillis(1300)
		cases := []struct {
			name, reason string
			subject      map[string]any
			perm         string
			resource     []map[string]any
		}{
			{"granted", "GRANTED", map[string]any{"memberId": active}, "AgentChat", nil},
			{"not granted", "NOT_GRANTED", map[string]any{"memberId": active}, "view_duplicates", nil},
			{"not in master list", "NOT_IN_MASTER_LIST", map[string]any{"memberId": active}, "unused.outside", nil},
			{"unknown permission", "UNKNOWN_PERMISSION", map[string]any{"memberId": active}, "nope.nope", nil},
			{"malformed permission", "UNKNOWN_PERMISSION", map[string]any{"memberId": active}, "a..b", nil},
			{"subject inactive", "SUBJECT_INACTIVE", map[string]any{"memberId": inactive}, "AgentChat", nil},
			{"key revoked", "KEY_REVOKED", map[string]any{"apiKeyId": revoked}, "AgentChat", nil},
			{"key expired", "KEY_EXPIRED", map[string]any{"apiKeyId": expiring}, "AgentChat", nil},
			{"constraint matches", "GRANTED", map[string]any{"memberId": constrained}, "attestations:mint", []map[string]any{{"attribute": "issuer_ids", "value": "iss_1"}}},
			{"constraint mismatch", "CONSTRAINT_MISMATCH", map[string]any{"memberId": constrained}, "attestations:mint", []map[string]any{{"attribute": "issuer_ids", "value": "iss_2"}}},
			{"constraint attribute missing", "CONSTRAINT_MISMATCH", map[string]any{"memberId": constrained}, "attestations:mint", nil},
		}
		// decide fails t, the subtest, rather than the test that built e.
		decide := func(t *testing.T, in map[string]any) resp {
			t.Helper()
			r := e.gql(e.Operator, authorize, map[string]any{"in": in})
			if r.Status != http.StatusOK || r.Get("errors").Exists() {
				t.Fatalf("unexpected failure: %s", r)
			}
			return r
		}
		// One subtest per reason, one per row within it; ACCOUNT_SUSPENDED
		// comes last as it suspends the account.
		reasons := []string{"GRANTED", "NOT_GRANTED", "NOT_IN_MASTER_LIST", "UNKNOWN_PERMISSION",
			"SUBJECT_INACTIVE", "KEY_REVOKED", "KEY_EXPIRED", "CONSTRAINT_MISMATCH"}
		for _, reason := range reasons {
			t.Run(reason, func(t *testing.T) {
				rows := 0
				for _, c := range cases {
					if c.reason != reason {
						continue
					}
					rows++
					t.Run(c.name, func(t *testing.T) {
						in := map[string]any{"accountId": a.ID, "subject": c.subject, "permission": c.perm}
						if c.resource != nil {
							in["resource"] = c.resource
						}
						r := decide(t, in)
						if got := r.Get("data.authorize.reason").String(); got != c.reason || r.Get("data.authorize.allowed").Bool() != (c.reason == "GRANTED") {
							t.Errorf("%s: want %s, got %s", c.name, c.reason, r)
						}
					})
				}
				if rows == 0 {
					t.Fatalf("no case for %s", reason)
				}
			})
		}
		for _, c := range cases {
			if !slices.Contains(reasons, c.reason) {
				t.Errorf("%s: reason %s has no subtest", c.name, c.reason)
			}
		}
		t.Run("ACCOUNT_SUSPENDED", func(t *testing.T) {
			r := e.gql(e.Operator, `mutation($id: ID!) { updateAccount(input: {accountId: $id, status: SUSPENDED}) { account { id } } }`, map[string]any{"id": a.ID})
			if r.Status != http.StatusOK || r.Get("errors").Exists() {
				t.Fatalf("unexpected failure: %s", r)
			}
			r = decide(t, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": active}, "permission": "AgentChat"})
			if r.Get("data.authorize.reason").String() != "ACCOUNT_SUSPENDED" || r.Get("data.authorize.allowed").Bool() {
				t.Fatalf("suspended account: %s", r)
			}
		})
	})
}

func TestD4_DenialSuggestsRoles(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("d4", nil)
		e.createRole(a.Owner, a.ID, "Dedup", []string{"view_duplicates"})
		_, tok := e.keyAdmin(a, "agent@d4.test", "AgentChat")
		r := e.decide(tok, map[string]any{"accountId": a.ID, "permission": "view_duplicates"})
		got := r.Get("data.authorize.suggestedRoles.#.key").String()
		if r.Get("data.authorize.allowed").Bool() || !strings.Contains(got, "dedup") || !strings.Contains(got, "full_access") || !strings.Contains(got, "default_access") {
			t.Fatalf("suggestions: %s", r)
		}
	})
}

func TestD5_AuthorizeManyAndWhoCan(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("d5", nil)
		role := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
		var holders []string
		for i := 0; i < 3; i++ {
			holders = append(holders, e.addMember(a.Owner, a.ID, fmt.Sprintf("m%d@d5.test", i), role))
		}
		e.ok(a.Owner, suspend, map[string]any{"id": holders[2]})
		key := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "k", "permissions": []string{"AgentChat"}}).Get("data.createApiKey.apiKey.id").String()
		const many = `query($in: [AuthorizeInput!]!) { authorizeMany(inputs: $in) { permission allowed } }`
		checks := func(n int) []map[string]any {
			out := make([]map[string]any, n)
			for i := range out {
				out[i] = map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": holders[i%2]}, "permission": []string{"AgentChat", "view_duplicates"}[i%2]}
			}
			return out
		}
		r := e.ok(e.Operator, many, map[string]any{"in": checks(100)})
		if r.Get("data.authorizeMany.#").Int() != 100 || !r.Get("data.authorizeMany.0.allowed").Bool() || r.Get("data.authorizeMany.1.allowed").Bool() {
			t.Fatalf("authorizeMany: %s", r.String()[:200])
		}
		e.fails("BAD_USER_INPUT", e.Operator, many, map[string]any{"in": checks(101)})
		// whoCan pages through every active holder: the owner (full_access), two members and the key.
		const who = `query($id: ID!, $after: Cursor) { account(id: $id) { whoCan(permission: "AgentChat", first: 2, after: $after) {
			totalCount pageInfo { hasNextPage endCursor } edges { node { __typename ... on Member { id email status createdAt } ... on ApiKey { id } } } } } }`
		var seen []string
		var after any
		for page := 0; page < 5; page++ {
			r := e.ok(a.Owner, who, map[string]any{"id": a.ID, "after": after})
			w := r.Get("data.account.whoCan")
			if w.Get("totalCount").Int() != 4 {
				t.Fatalf("totalCount: %s", r)
			}
			for _, n := range w.Get("edges.#.node").Array() {
				seen = append(seen, n.Get("id").String())
				// A member holder is its whole row, not what the model keeps of it.
				if n.Get("__typename").String() == "Member" && (n.Get("email").String() == "" || n.Get("status").String() != "ACTIVE" ||
					strings.HasPrefix(n.Get("createdAt").String(), "0001")) {
					t.Errorf("whoCan member: %s", n)
				}
			}
			if !w.Get("pageInfo.hasNextPage").Bool() {
				break
			}
			after = w.Get("pageInfo.endCursor").String()
		}
		want := []string{a.OwnerID, holders[0], holders[1], key}
		for _, id := range want {
			if !contains(seen, id) {
				t.Fatalf("whoCan misses %s: %v", id, seen)
			}
		}
		if len(seen) != 4 || contains(seen, holders[2]) {
			t.Fatalf("whoCan: %v", seen)
		}
		_, tok := e.keyAdmin(a, "agent@d5.test", "AgentChat")
		e.fails("FORBIDDEN", tok, who, map[string]any{"id": a.ID})
	})
}

// K6: masks are reported in decisions so products can hide fields.
func TestK6_MasksReportedInDecisions(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("k6d", nil)
		role := e.ok(e.Operator, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Masked", "grants": []string{"AgentChat", "mask:member.email"}}}).
			Get("data.createRole.role.id").String()
		m := e.addMember(e.Operator, a.ID, "masked@k6d.test", role)
		r := e.decide(e.Operator, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": m}, "permission": "AgentChat"})
		if r.Get("data.authorize.masks").String() != `["mask:member.email"]` {
			t.Fatalf("masks: %s", r)
		}
		r = e.decide(e.Operator, map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": m}, "permission": "mask:member.email"})
		if r.Get("data.authorize.allowed").Bool() {
			t.Fatalf("a mask must never be granted: %s", r)
		}
	})
}

// D6 on one server: a committed change is reflected by the very next decision.
func TestD6_ReadYourWrites(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("d6", nil)
		role := e.createRole(a.Owner, a.ID, "Toggle", nil)
		m := e.addMember(a.Owner, a.ID, "t@d6.test", role)
		in := map[string]any{"accountId": a.ID, "subject": map[string]any{"memberId": m}, "permission": "AgentChat"}
		for v := 1; v <= 6; v++ {
			e.decide(e.Operator, in) // keep the cache warm
			grants := []string{}
			if v%2 == 1 {
				grants = []string{"AgentChat"}
			}
			e.ok(a.Owner, updateRole, map[string]any{"in": map[string]any{"roleId": role, "expectedVersion": v, "grants": grants}})
			if got := e.decide(e.Operator, in).Get("data.authorize.allowed").Bool(); got != (v%2 == 1) {
				t.Fatalf("after change %d the decision is stale", v)
			}
		}
		e.ok(a.Owner, suspend, map[string]any{"id": m})
		if r := e.decide(e.Operator, in); r.Get("data.authorize.reason").String() != "SUBJECT_INACTIVE" {
			t.Fatalf("suspension not reflected: %s", r)
		}
	})
}
