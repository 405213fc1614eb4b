package apitest

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const verify = `query($id: ID!) { verifyAuditChain(accountId: $id) { valid checked problem firstBrokenEvent { id action } } }`

func TestL1_EventsAttributeActorRequestAndChanges(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("l1", nil)
		body := `{"query":"mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }","variables":{"in":{"accountId":"` + a.ID + `","name":"Audited","grants":["AgentChat"]}}}`
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+a.Owner)
		req.Header.Set("X-Request-Id", "req-l1-42")
		role := e.send(req).Get("data.createRole.role.id").String()
		r := e.ok(a.Owner, `query($id: ID!) { account(id: $id) { auditEvents(first: 1, where: {action: "role.created"}) { edges { node {
			actorType actorID actorLabel action targetType targetID requestID clientAddr changes createdAt } } } } }`, map[string]any{"id": a.ID})
		n := r.Get("data.account.auditEvents.edges.0.node")
		if n.Get("actorType").String() != "USER" || n.Get("actorLabel").String() != a.OwnerEmail || n.Get("targetID").String() != role ||
			n.Get("requestID").String() != "req-l1-42" || n.Get("clientAddr").String() != "127.0.0.1" ||
			n.Get("changes.after.grants.0").String() != "AgentChat" {
			t.Fatalf("event: %s", r)
		}
	})
}

func TestL2_AppendOnlyInTheDatabase(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.newAccount("l2a", nil)
		if _, err := e.DB.SQL.Exec(`UPDATE audit_events SET action = 'forged'`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("UPDATE of audit events: %v", err)
		}
		if _, err := e.DB.SQL.Exec(`DELETE FROM audit_events`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("DELETE of audit events: %v", err)
		}
	})
}

func TestL2_ChainDetectsTampering(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("l2t", nil)
		for i := 0; i < 3; i++ {
			e.createRole(a.Owner, a.ID, fmt.Sprintf("R%d", i), []string{"AgentChat"})
		}
		r := e.ok(a.Owner, verify, map[string]any{"id": a.ID})
		if !r.Get("data.verifyAuditChain.valid").Bool() || r.Get("data.verifyAuditChain.checked").Int() != 4 {
			t.Fatalf("untouched chain: %s", r)
		}
		// Someone with database access turns the trigger off and edits an event.
		disable := map[string]string{
			"postgres": `ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`,
			"sqlite3":  `DROP TRIGGER audit_events_no_update`,
		}[e.Dialect]
		if _, err := e.DB.SQL.Exec(disable); err != nil {
			t.Fatal(err)
		}
		var target string
		if err := e.DB.SQL.QueryRow(`SELECT id FROM audit_events WHERE account_id = '` + a.ID + `' AND seq = 3`).Scan(&target); err != nil {
			t.Fatal(err)
		}
		if _, err := e.DB.SQL.Exec(`UPDATE audit_events SET actor_label = 'someone-else' WHERE id = '` + target + `'`); err != nil {
			t.Fatal(err)
		}
		r = e.ok(a.Owner, verify, map[string]any{"id": a.ID})
		v := r.Get("data.verifyAuditChain")
		if v.Get("valid").Bool() || v.Get("firstBrokenEvent.id").String() != target || v.Get("checked").Int() != 2 {
			t.Fatalf("tampering not found: %s", r)
		}
	})
}

func TestL2_ConcurrentChangesNeverForkTheChain(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("l2c", nil)
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.gql(a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
					map[string]any{"in": map[string]any{"accountId": a.ID, "name": fmt.Sprintf("Concurrent %d", i)}})
			}()
		}
		wg.Wait()
		r := e.ok(a.Owner, verify, map[string]any{"id": a.ID})
		if !r.Get("data.verifyAuditChain.valid").Bool() || r.Get("data.verifyAuditChain.checked").Int() != 17 {
			t.Fatalf("chain after concurrent changes: %s", r)
		}
	})
}

func TestL3_FiltersPaginationAndCSV(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("l3", nil)
		start := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
		for i := 0; i < 5; i++ {
			e.createRole(a.Owner, a.ID, fmt.Sprintf("R%d", i), nil)
		}
		m := e.addMember(a.Owner, a.ID, "x@l3.test")
		const q = `query($id: ID!, $w: AuditEventWhereInput, $after: Cursor) { account(id: $id) {
			auditEvents(first: 2, after: $after, where: $w) { totalCount pageInfo { hasNextPage endCursor } edges { node { action targetID } } } } }`
		r := e.ok(a.Owner, q, map[string]any{"id": a.ID, "w": map[string]any{"action": "role.created", "createdAtGTE": start}})
		if r.Get("data.account.auditEvents.totalCount").Int() != 5 || !r.Get("data.account.auditEvents.pageInfo.hasNextPage").Bool() {
			t.Fatalf("filter by action and time: %s", r)
		}
		r = e.ok(a.Owner, q, map[string]any{"id": a.ID, "w": map[string]any{"targetID": m}})
		if r.Get("data.account.auditEvents.totalCount").Int() != 1 || r.Get("data.account.auditEvents.edges.0.node.action").String() != "member.added" {
			t.Fatalf("filter by target: %s", r)
		}
		r = e.ok(a.Owner, q, map[string]any{"id": a.ID, "w": map[string]any{"actorLabel": "nobody@else.test"}})
		if r.Get("data.account.auditEvents.totalCount").Int() != 0 {
			t.Fatalf("filter by actor: %s", r)
		}
		get := func(cred, query string) (*http.Response, string) {
			req, _ := http.NewRequest(http.MethodGet, e.URL+"/accounts/"+a.ID+"/audit.csv"+query, nil)
			if cred != "" {
				req.Header.Set("Authorization", "Bearer "+cred)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res, string(b)
		}
		res, body := get(a.Owner, "?action=role.created")
		rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || res.StatusCode != 200 || len(rows) != 6 || rows[0][0] != "id" || rows[1][6] != "role.created" {
			t.Fatalf("CSV: %d %v %q", res.StatusCode, err, body)
		}
		if res, _ := get("", ""); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("CSV without credentials: %d", res.StatusCode)
		}
		_, tok := e.keyAdmin(a, "reader@l3.test", "iam.members.read")
		if res, _ := get(tok, ""); res.StatusCode != http.StatusForbidden {
			t.Fatalf("CSV without iam.audit.read: %d", res.StatusCode)
		}
		if res, _ := get(userToken(t, "stranger@l3.test"), ""); res.StatusCode != http.StatusNotFound {
			t.Fatalf("CSV of another account: %d", res.StatusCode)
		}
	})
}
