package apitest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/server"
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
		// A REPORT rule broken before the change is not the change's doing.
		both := e.createRole(a.Owner, a.ID, "Both", []string{"AgentChat", "view_duplicates"})
		e.addMember(a.Owner, a.ID, "x@v4.test", both)
		e.ok(a.Owner, createSod, sodRule(a.ID, "MEMBER", "REPORT", "AgentChat", "view_duplicates"))
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
		if p.Get("sodViolations.#").Int() != 1 || p.Get("sodViolations.0.members.#").Int() != 1 || p.Get("sodViolations.0.members.0.id").String() != m {
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

// usageRecorded reads the permissions recorded as used by subject, straight
// from the usage table: unlike the access review, reading it flushes nothing.
func (e *env) usageRecorded(accountID, subject string) []string {
	e.t.Helper()
	rows, err := e.DB.SQL.Query(`SELECT permission FROM usages WHERE account_id = $1 AND subject_id = $2 ORDER BY permission`, accountID, subject)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// usageUnused is what the review lists as unused for the role with key, or nil.
func usageUnused(r resp, roleKey string) []string {
	for _, u := range r.Get("data.account.accessReview.unusedPermissions").Array() {
		if u.Get("role.key").String() == roleKey {
			return gjsonStrings(u.Get("permissions").Array())
		}
	}
	return nil
}

// V2: every allowed decision records (subject, permission, last used), and
// the request that made it writes nothing: the flusher writes in batches.
// A denied decision records nothing, even for a permission the subject's
// role grants.
func TestV2_UsageRecordedOffTheRequestPath(t *testing.T) {
	forEachDBWith(t, server.Config{UsageFlush: 200 * time.Millisecond}, func(t *testing.T, e *env) {
		a := e.newAccount("v2", map[string]any{"features": map[string]any{"resourceConstraints": true}})
		chat := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat", "view_duplicates"})
		scoped := e.ok(a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Scoped", "grants": []string{"attestations:mint", "attestations:revoke"},
				"constraints": []map[string]any{{"attribute": "issuer_ids", "values": []string{"iss_1"}}}}}).Get("data.createRole.role.id").String()
		user := e.addMember(a.Owner, a.ID, "user@v2.test", chat, scoped)
		idle := e.addMember(a.Owner, a.ID, "idle@v2.test", chat)
		// The user asks about themselves (a dashboard); a key holding
		// iam.authorize asks about the user (a product's backend).
		tok := userToken(t, "user@v2.test")
		judge := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "judge", "permissions": []string{"iam.authorize"}}).
			Get("data.createApiKey.secret").String()
		ask := func(self bool, perm, issuer string) map[string]any {
			in := map[string]any{"accountId": a.ID, "permission": perm}
			if !self {
				in["subject"] = map[string]any{"memberId": user}
			}
			if issuer != "" {
				in["resource"] = []map[string]any{{"attribute": "issuer_ids", "value": issuer}}
			}
			return map[string]any{"in": in}
		}
		// Warm-up: the user's first request, the key's index entry, the
		// account's model. Denied decisions, so nothing is recorded.
		for cred, self := range map[string]bool{tok: true, judge: false} {
			if r := e.ok(cred, authorize, ask(self, "checks.background", "")); r.Get("data.authorize.allowed").Bool() {
				t.Fatalf("setup: checks.background allowed: %s", r)
			}
		}
		time.Sleep(20 * time.Millisecond)
		since := time.Now()
		time.Sleep(20 * time.Millisecond)
		decide := func(cred string, self bool, perm, issuer, reason string) int64 {
			t.Helper()
			r, n := e.statementsOf(cred, authorize, ask(self, perm, issuer))
			if got := r.Get("data.authorize.reason").String(); got != reason || r.Get("data.authorize.allowed").Bool() != (reason == "GRANTED") {
				t.Fatalf("%s: want %s, got %s", perm, reason, r)
			}
			t.Logf("%s: warm %s decision for %s (self %v) → %d SQL statements", e.Dialect, reason, perm, self, n)
			return n
		}
		// A key's warm requests send no SQL at all, allowed or denied.
		for _, d := range []struct{ perm, issuer, reason string }{
			{"AgentChat", "", "GRANTED"},
			{"attestations:mint", "iss_2", "CONSTRAINT_MISMATCH"}, // granted by Scoped, denied here
			{"checks.background", "", "NOT_GRANTED"},
		} {
			if n := decide(judge, false, d.perm, d.issuer, d.reason); n != 0 {
				t.Errorf("the %s decision for %s sent %d SQL statements, want none (usage is written off the request path)", d.reason, d.perm, n)
			}
		}
		// A dashboard user's request reads the user on every request; an
		// allowed decision must cost no more than a denied one.
		allowed := decide(tok, true, "attestations:revoke", "iss_1", "GRANTED")
		denied := decide(tok, true, "checks.background", "", "NOT_GRANTED")
		if allowed != denied {
			t.Errorf("an allowed decision sent %d SQL statements, a denied one %d: the allowed one writes on the request path", allowed, denied)
		}
		// The flusher, not a review (which flushes first), writes the uses.
		want := []string{"AgentChat", "attestations:revoke"}
		deadline := time.Now().Add(5 * time.Second)
		got := e.usageRecorded(a.ID, user)
		for !slices.Equal(got, want) && time.Now().Before(deadline) {
			time.Sleep(25 * time.Millisecond)
			got = e.usageRecorded(a.ID, user)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("recorded uses of %s: %v, want %v", user, got, want)
		}
		if got := e.usageRecorded(a.ID, idle); len(got) != 0 {
			t.Fatalf("uses recorded for a member who asked nothing: %v", got)
		}
		// Since before the decisions: used permissions are not unused; the
		// denied one is, as is the one nobody asked for.
		r := e.ok(a.Owner, review, map[string]any{"id": a.ID, "since": since.UTC().Format(time.RFC3339Nano)})
		if got := usageUnused(r, "chat"); !slices.Equal(got, []string{"view_duplicates"}) {
			t.Errorf("unused permissions of chat: %v (review %s)", got, r)
		}
		if got := usageUnused(r, "scoped"); !slices.Equal(got, []string{"attestations:mint"}) {
			t.Errorf("unused permissions of scoped: %v (review %s)", got, r)
		}
		inactive := gjsonStrings(r.Get("data.account.accessReview.inactiveMembers.#.id").Array())
		if contains(inactive, user) || !contains(inactive, idle) {
			t.Errorf("inactive members %v: want %s and not %s", inactive, idle, user)
		}
		// Since after them: the uses are older, so nothing counts as used.
		time.Sleep(20 * time.Millisecond)
		r = e.ok(a.Owner, review, map[string]any{"id": a.ID, "since": time.Now().UTC().Format(time.RFC3339Nano)})
		if got := usageUnused(r, "chat"); !slices.Equal(got, []string{"AgentChat", "view_duplicates"}) {
			t.Errorf("unused permissions of chat since the decisions: %v (review %s)", got, r)
		}
		if got := usageUnused(r, "scoped"); !slices.Equal(got, []string{"attestations:mint", "attestations:revoke"}) {
			t.Errorf("unused permissions of scoped since the decisions: %v (review %s)", got, r)
		}
	})
}

// V2 with many servers: each flushes its own batches, in any order; a use
// never overwrites a later one of the same subject and permission.
func TestV2_FlushesOfTwoServersKeepTheLatestUse(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("v2two", nil)
		lastUse := func() time.Time {
			t.Helper()
			var at time.Time
			if err := e.DB.SQL.QueryRow(`SELECT last_used_at FROM usages WHERE subject_id = $1 AND permission = $2`,
				a.OwnerID, "AgentChat").Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at
		}
		other := iam.New(e.DB.Client, e.Dialect, nil) // a second server on the same database
		first := e.Server.Service
		other.PermissionUsed(a.ID, a.OwnerID, "AgentChat") // the older use, on the other server
		time.Sleep(5 * time.Millisecond)
		first.PermissionUsed(a.ID, a.OwnerID, "AgentChat")
		if err := first.FlushUsage(context.Background()); err != nil {
			t.Fatal(err)
		}
		newer := lastUse()
		if err := other.FlushUsage(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := lastUse(); !got.Equal(newer) {
			t.Fatalf("the older use (flushed last) overwrote the newer one: %s, want %s", got, newer)
		}
		// A later use does replace it.
		time.Sleep(5 * time.Millisecond)
		other.PermissionUsed(a.ID, a.OwnerID, "AgentChat")
		if err := other.FlushUsage(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := lastUse(); !got.After(newer) {
			t.Fatalf("a later use did not replace %s: %s", newer, got)
		}
	})
}

// V3 at scale: a review reads the account's model once. Its rule
// violations read the whole account a second time, and the unused
// permissions of each role compared every permission it gives with every
// permission every holder used: a role of 66,000 holders took seconds. Now
// the violations are judged on the review's model, and each role's holders'
// uses are gathered once.
func TestV3_AnAccessReviewReadsTheAccountOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("v3once", nil)
		chat := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat", "view_duplicates"})
		e.ok(a.Owner, `mutation($in: CreateSodRuleInput!) { createSodRule(input: $in) { sodRule { id } } }`, map[string]any{"in": map[string]any{
			"accountId": a.ID, "name": "chat apart from products", "permissions": []string{"AgentChat", "products.all"}, "level": "MEMBER", "mode": "REPORT"}})
		products := e.createRole(a.Owner, a.ID, "Products", []string{"products.all"})
		both := e.addMember(a.Owner, a.ID, "both@v3once.test", chat, products)
		met := adminOf(t, e)
		before := met.scrape()
		r := e.ok(a.Owner, review, map[string]any{"id": a.ID, "since": time.Now().Add(-time.Hour).Format(time.RFC3339)})
		if v := r.Get("data.account.accessReview.sodViolations.0"); v.Get("members.0.id").String() != both {
			t.Fatalf("the review's violations: %s", r)
		}
		delta(t, before, met.scrape(), 1, "gatehouse_model_load_duration_seconds")
	})
}
