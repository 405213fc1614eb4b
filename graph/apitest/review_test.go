package apitest

import (
	"strings"
	"testing"
	"time"
)

const review = `query($id: ID!, $since: Time!) { account(id: $id) { accessReview(since: $since) {
	unusedPermissions { role { key } permissions } inactiveMembers { id } inactiveApiKeys { id } keysNearExpiry { id }
	rolesWithoutHolders { key } sodViolations { rule { name } roles { key } members { id } } ownerCount } } }`

// V2 and V3: allowed decisions are recorded (in batches), and the review
// finds unused permissions, inactive members and keys, keys near expiry,
// roles without holders, rule violations and the owner count.
func TestV3_AccessReview(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("v3", nil)
		chat := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat", "view_duplicates"})
		e.createRole(a.Owner, a.ID, "Nobody", []string{"checks.background"})
		e.createRole(a.Owner, a.ID, "Both", []string{"attestations:mint", "governance:approve"})
		active := e.addMember(a.Owner, a.ID, "active@v3.test", chat)
		idle := e.addMember(a.Owner, a.ID, "idle@v3.test", chat)
		soon := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "soon", "expiresAt": time.Now().Add(48 * time.Hour).Format(time.RFC3339)}).
			Get("data.createApiKey.apiKey.id").String()
		unused := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "unused", "permissions": []string{"AgentChat"}}).
			Get("data.createApiKey.apiKey.id").String()
		e.ok(a.Owner, createSod, sodRule(a.ID, "ROLE", "REPORT", "attestations:mint", "governance:approve"))
		time.Sleep(20 * time.Millisecond)
		since := time.Now().UTC().Format(time.RFC3339Nano)
		time.Sleep(20 * time.Millisecond)
		// The active member uses AgentChat.
		if !e.decide(userToken(t, "active@v3.test"), map[string]any{"accountId": a.ID, "permission": "AgentChat"}).Get("data.authorize.allowed").Bool() {
			t.Fatal("setup: AgentChat denied")
		}
		r := e.ok(a.Owner, review, map[string]any{"id": a.ID, "since": since})
		rv := r.Get("data.account.accessReview")
		var chatUnused string
		for _, u := range rv.Get("unusedPermissions").Array() {
			if u.Get("role.key").String() == "chat" {
				chatUnused = u.Get("permissions").String()
			}
		}
		if chatUnused != `["view_duplicates"]` {
			t.Errorf("unused permissions of chat: %s (review %s)", chatUnused, rv)
		}
		inactive := rv.Get("inactiveMembers.#.id").String()
		if !strings.Contains(inactive, idle) || strings.Contains(inactive, active) {
			t.Errorf("inactive members: %s", inactive)
		}
		if !strings.Contains(rv.Get("inactiveApiKeys.#.id").String(), unused) || rv.Get("keysNearExpiry.0.id").String() != soon {
			t.Errorf("keys: %s", rv)
		}
		if !strings.Contains(rv.Get("rolesWithoutHolders.#.key").String(), "nobody") || rv.Get("ownerCount").Int() != 1 {
			t.Errorf("roles without holders / owners: %s", rv)
		}
		if rv.Get("sodViolations.0.roles.0.key").String() != "both" {
			t.Errorf("violations: %s", rv)
		}
		e.fails("FORBIDDEN", userToken(t, "idle@v3.test"), review, map[string]any{"id": a.ID, "since": since})
	})
}

// V4: previewRoleUpdate says who gains and loses what and which rules break,
// and changes nothing.
func TestV4_PreviewRoleUpdateChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("v4", nil)
		chat := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat", "attestations:mint"})
		m := e.addMember(a.Owner, a.ID, "m@v4.test", chat)
		e.ok(a.Owner, createSod, sodRule(a.ID, "MEMBER", "ENFORCE", "attestations:mint", "governance:approve"))
		const preview = `mutation($in: UpdateRoleInput!) { previewRoleUpdate(input: $in) { role { version grants }
			changes { member { id } gained lost } sodViolations { rule { name } members { id } } } }`
		before := e.auditCount(a.ID, "role.updated")
		r := e.ok(a.Owner, preview, map[string]any{"in": map[string]any{"roleId": chat, "expectedVersion": 1,
			"addGrants": []string{"governance:approve"}, "removeGrants": []string{"AgentChat"}}})
		p := r.Get("data.previewRoleUpdate")
		if p.Get("changes.0.member.id").String() != m || p.Get("changes.0.gained").String() != `["governance:approve"]` ||
			p.Get("changes.0.lost").String() != `["AgentChat"]` || p.Get("role.version").Int() != 2 {
			t.Fatalf("preview: %s", r)
		}
		if p.Get("sodViolations.0.members.0.id").String() != m {
			t.Fatalf("the rule the update would break: %s", r)
		}
		// Nothing changed: the role, the member's permissions, the audit log.
		if got := e.ok(a.Owner, `query($id: ID!) { node(id: $id) { ... on Role { version } } }`, map[string]any{"id": chat}).Get("data.node.version").Int(); got != 1 {
			t.Fatalf("the preview changed the role (version %d)", got)
		}
		if !contains(e.permissionsOf(m), "AgentChat") || e.auditCount(a.ID, "role.updated") != before {
			t.Fatal("the preview changed something")
		}
		// The same checks as updateRole apply.
		e.fails("VERSION_CONFLICT", a.Owner, preview, map[string]any{"in": map[string]any{"roleId": chat, "expectedVersion": 7, "name": "x"}})
		e.fails("FORBIDDEN", a.Owner, preview, map[string]any{"in": map[string]any{"roleId": a.FullAccessID, "expectedVersion": 1, "name": "x"}})
	})
}
