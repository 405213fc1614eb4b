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
	e := newEnv(t, dialect.SQLite, server.Config{})
	a := e.newAccount("plans", nil)
	for i := range 3 {
		e.addMember(a.Owner, a.ID, fmt.Sprintf("m%d@plans.test", i))
	}
	for _, page := range []string{
		`members(first: 2) { totalCount edges { cursor node { id } } }`,
		`members(first: 2, where: {status: ACTIVE}) { edges { node { id } } }`,
	} {
		r, tr := e.trackRequest(e.request(a.Owner, `query($id: ID!) { account(id: $id) { `+page+` } }`, map[string]any{"id": a.ID}))
		if r.Status != 200 || r.Get("errors").Exists() || len(r.Get("data.account.members.edges").Array()) != 2 {
			t.Fatalf("%s: %s", page, r)
		}
		read := 0
		for _, s := range tr.Statements() {
			if !strings.Contains(s.Query, "FROM `members`") {
				continue
			}
			read++
			plan := e.explainSQLite(s.Query, s.Args)
			if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "SCAN ") {
				t.Errorf("%s\n%s\nplan:\n%s", page, s.Query, plan)
			}
		}
		if read == 0 {
			t.Fatalf("%s: no statement read the members", page)
		}
	}
}
