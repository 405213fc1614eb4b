package apitest

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
)

// auditReasons returns the reasons of the account's events with action, as
// the GraphQL log shows them, newest first.
func (e *env) auditReasons(cred, accountID, action string) []string {
	e.t.Helper()
	r := e.ok(cred, `query($id: ID!, $a: String!) { account(id: $id) { auditEvents(where: {action: $a}) { edges { node { reason } } } } }`,
		map[string]any{"id": accountID, "a": action})
	return gjsonStrings(r.Get("data.account.auditEvents.edges.#.node.reason").Array())
}

// auditCSVRows downloads the account's audit log as CSV, header first.
func (e *env) auditCSVRows(cred, accountID, query string) [][]string {
	e.t.Helper()
	status, b := e.getExport(cred, "/accounts/"+accountID+"/audit.csv"+query)
	if status != http.StatusOK {
		e.t.Fatalf("audit.csv: %d %s", status, b)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// csvColumn returns a column of CSV rows by its header's name.
func csvColumn(t *testing.T, rows [][]string, name string) []string {
	t.Helper()
	col := -1
	for i, h := range rows[0] {
		if h == name {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no %s column in %v", name, rows[0])
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[col])
	}
	return out
}

// L1, L3: a mutation's optional reason is stored in its audit event, shown in
// the log and the CSV export, and covered by the chain; a reason that is too
// long or holds control characters is refused before anything is written.
func TestL1_ReasonStoredShownAndExported(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("why", nil)
		in := map[string]any{"accountId": a.ID, "name": "Night shift", "grants": []string{"AgentChat"}, "reason": "cover for the 24/7 launch — ticket OPS-12"}
		e.ok(a.Owner, createRole, map[string]any{"in": in})
		e.createRole(a.Owner, a.ID, "No reason", nil)
		if got := e.auditReasons(a.Owner, a.ID, "role.created"); len(got) != 2 || got[0] != "" || got[1] != in["reason"] {
			t.Fatalf("reasons in the log, newest first: %q", got)
		}
		rows := e.auditCSVRows(a.Owner, a.ID, "?action=role.created")
		sameStrings(t, "reasons in the CSV", csvColumn(t, rows, "reason"), []string{"", in["reason"].(string)})
		if rows[0][len(rows[0])-1] != "reason" {
			t.Errorf("reason must be the CSV's last column, after those readers already know: %v", rows[0])
		}
		if v := e.ok(a.Owner, verify, map[string]any{"id": a.ID}).Get("data.verifyAuditChain"); !v.Get("valid").Bool() {
			t.Fatalf("a chain with reasons: %s", v)
		}
		// Newlines and tabs are allowed (a reason may take a few lines);
		// other control characters are not.
		for name, reason := range map[string]string{"too long": strings.Repeat("é", 1001), "control": "line one\x1b[31mline two", "nul": "a\x00b"} {
			in := map[string]any{"accountId": a.ID, "name": "Refused " + name, "reason": reason}
			r := e.fails("BAD_USER_INPUT", a.Owner, createRole, map[string]any{"in": in})
			if r.Get("errors.0.extensions.field").String() != "input.reason" {
				t.Errorf("%s: %s", name, r)
			}
		}
		if e.auditCount(a.ID, "role.created") != 2 {
			t.Error("a refused reason wrote a role or an event")
		}
		// At the limit is fine.
		e.ok(a.Owner, createRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Long", "reason": strings.Repeat("é", 1000)}})
	})
}
