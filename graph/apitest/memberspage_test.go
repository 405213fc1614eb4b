package apitest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

const membersPage = `query($id: ID!) { account(id: $id) { members(first: 100) { edges { node { id email roles { key grants } effectivePermissions } } } } }`

// The dashboard query (issue 13): once the account's model is warm, the
// roles members hold and their effective permissions come from it. The
// page sends the statements of its members and users, and not one more for
// roles or permissions, however many members it has.
func TestMembersPage_RolesAndPermissionsFromTheModel(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("mpage", nil)
		chat := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
		for i := range 20 {
			e.addMember(a.Owner, a.ID, fmt.Sprintf("m%d@mpage.test", i), chat)
		}
		const plain = `query($id: ID!) { account(id: $id) { members(first: 100) { edges { node { id email } } } } }`
		vars := map[string]any{"id": a.ID}
		e.ok(a.Owner, membersPage, vars) // warm-up
		_, without := e.fewestStatements(a.Owner, plain, vars)
		r, with := e.fewestStatements(a.Owner, membersPage, vars)
		if with != without {
			t.Errorf("roles and effectivePermissions sent %d statements more than the page without them", with-without)
		}
		m := r.Get(`data.account.members.edges.#(node.email=="m7@mpage.test").node`)
		if m.Get("roles.0.key").String() != "chat" || m.Get("effectivePermissions").String() != `["AgentChat"]` {
			t.Errorf("member m7: %s", m)
		}
		t.Logf("%s: members page %d statements (%d without roles and permissions)", e.Dialect, with, without)
	})
}

// A member added through another server that this server has not heard of
// yet (its model is older) is shown with the roles it holds: read from the
// database, not missing from the model.
func TestMembersPage_AMemberTheModelHasNotMet(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		// This server never hears of the other's commits within the test.
		deaf := e.secondServer(t, server.Config{NoListen: true, ChangePollInterval: time.Minute, MaxStaleness: 2 * time.Minute})
		a := e.newAccount("mmiss", nil)
		chat := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
		vars := map[string]any{"id": a.ID}
		deaf.ok(a.Owner, membersPage, vars) // deaf's model of the account, without the member
		e.addMember(a.Owner, a.ID, "late@mmiss.test", chat)
		r := deaf.ok(a.Owner, membersPage, vars)
		m := r.Get(`data.account.members.edges.#(node.email=="late@mmiss.test").node`)
		if m.Get("roles.#").Int() != 1 || m.Get("roles.0.key").String() != "chat" || m.Get("effectivePermissions").String() != `["AgentChat"]` {
			t.Errorf("the member the model has not met: %s", r.Body)
		}
	})
}
