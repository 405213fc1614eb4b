package apitest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// explainSQLite is SQLite's plan of a statement the server sent, one line
// a step.
func (e *env) explainSQLite(q string, args []any) string {
	e.t.Helper()
	rows, err := e.DB.SQL.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			e.t.Fatal(err)
		}
		fmt.Fprintln(&b, detail)
	}
	return b.String()
}

// The dashboard's member list (issue 13's members page) reads a page of its
// account's members in id order from an index, whatever the size of the
// account and of the table. It was ent's edge query, a join with DISTINCT
// over every column, with no index ordering an account's members by id: on
// SQLite every member of the account was read and sorted for each page (160
// ms at 40,000), on PostgreSQL the whole table's primary key was scanned
// (50 ms at 175,000 members, for an account of any size). PostgreSQL's
// plans depend on its statistics, so the plan is checked on SQLite; the
// statement and the index are the same on both.
func TestMembersPage_AnAccountsPageIsReadInOrderFromAnIndex(t *testing.T) {
	e, a := newPlansEnv(t)
	e.pagesReadFromIndexes(a, "members", false,
		`members(first: 2) { totalCount edges { cursor node { id } } }`,
		`members(first: 2, where: {status: ACTIVE}) { edges { node { id } } }`)
}

// L3 at scale: a page of the audit log, and its totalCount or pageInfo (for
// which entgql counts the account's events), are read from an index: the
// page in (created_at, id) order without a sort, the count from the index
// alone. The index ordered by created_at only, and the count read every
// event of the account from the table (SQLite: 380 ms at 200,000 events;
// PostgreSQL: a parallel scan of the whole table, 230 ms at a million).
func TestL3_AnAuditLogPageAndItsCountAreReadFromAnIndex(t *testing.T) {
	e, a := newPlansEnv(t)
	e.pagesReadFromIndexes(a, "audit_events", true,
		`auditEvents(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { id action } } }`)
}

// S2 at scale: the account's API keys page (a CI job's keys, made and
// revoked all day, add up) is read in id order from an index, and counted
// from it. The only index was (account_id): each page sorted every key of
// the account, revoked ones included.
func TestS2_AnAccountsAPIKeysPageIsReadInOrderFromAnIndex(t *testing.T) {
	e, a := newPlansEnv(t)
	for i := range 3 {
		e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": fmt.Sprintf("ci-%d", i)})
	}
	e.pagesReadFromIndexes(a, "api_keys", true, `apiKeys(first: 2) { totalCount edges { cursor node { id } } }`)
}

// newPlansEnv is a Gatehouse on SQLite with an account of four members.
func newPlansEnv(t *testing.T) (*env, account) {
	e := newEnv(t, dialect.SQLite, server.Config{})
	a := e.newAccount("plans", nil)
	for i := range 3 {
		e.addMember(a.Owner, a.ID, fmt.Sprintf("m%d@plans.test", i))
	}
	return e, a
}

// pagesReadFromIndexes requests each page of a's (a field of Account) and
// checks SQLite's plan of every statement that reads table: no temporary
// B-tree, no scan, and, with covered, counts from an index alone.
func (e *env) pagesReadFromIndexes(a account, table string, covered bool, pages ...string) {
	e.t.Helper()
	for _, page := range pages {
		r, tr := e.trackRequest(e.request(a.Owner, `query($id: ID!) { account(id: $id) { `+page+` } }`, map[string]any{"id": a.ID}))
		field, _, _ := strings.Cut(page, "(")
		if r.Status != 200 || r.Get("errors").Exists() || len(r.Get("data.account."+field+".edges").Array()) != 2 {
			e.t.Fatalf("%s: %s", page, r)
		}
		read := 0
		for _, s := range tr.Statements() {
			if !strings.Contains(s.Query, "FROM `"+table+"`") {
				continue
			}
			read++
			plan := e.explainSQLite(s.Query, s.Args)
			count := strings.Contains(s.Query, "COUNT(")
			if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "SCAN ") ||
				(covered && count && !strings.Contains(plan, "COVERING INDEX")) {
				e.t.Errorf("%s\n%s\nplan:\n%s", page, s.Query, plan)
			}
		}
		if read == 0 {
			e.t.Fatalf("%s: no statement read %s", page, table)
		}
	}
}
