package apitest

import (
	"context"
	"fmt"
	"testing"

	"github.com/tidwall/gjson"
)

const memberSearch = `query($id: ID!, $where: MemberWhereInput, $order: MemberOrder, $first: Int, $after: Cursor) {
	account(id: $id) { members(where: $where, orderBy: $order, first: $first, after: $after) {
		totalCount pageInfo { hasNextPage endCursor } edges { node { email name status lastActiveAt } } } } }`

// search returns the emails of the members matching where, in order.
func (e *env) search(cred, accountID string, where, order map[string]any) []string {
	e.t.Helper()
	r := e.ok(cred, memberSearch, map[string]any{"id": accountID, "where": where, "order": order})
	return gjsonStrings(r.Get("data.account.members.edges.#.node.email").Array())
}

func (e *env) addNamedMember(cred, accountID, email, name string, roleIDs ...string) string {
	e.t.Helper()
	r := e.ok(cred, `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id } } }`,
		map[string]any{"in": map[string]any{"accountId": accountID, "email": email, "name": name, "roleIds": roleIDs}})
	return r.Get("data.addMember.member.id").String()
}

// M1 for dashboards: members(where:, orderBy:) searches by email and name
// (case-insensitive contains, and exact), by status and by role, and sorts
// by email, name, creation and last activity, paging through any order.
func TestM1_MemberSearchAndSort(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("ms", nil)
		chat := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
		dedup := e.createRole(a.Owner, a.ID, "Dedup", []string{"view_duplicates"})
		bob := e.addNamedMember(a.Owner, a.ID, "bob@ms.test", "Bob Beta", chat)
		e.addNamedMember(a.Owner, a.ID, "ana@ms.test", "Ana Alpha", chat, dedup)
		carol := e.addNamedMember(a.Owner, a.ID, "carol@ms.test", "carol", dedup)
		e.ok(a.Owner, `mutation($in: MemberInput!) { suspendMember(input: $in) { member { id } } }`,
			map[string]any{"in": map[string]any{"memberId": carol}})
		owner := a.OwnerEmail // owner@ms.test, name Owner

		asc := func(field string) map[string]any { return map[string]any{"field": field, "direction": "ASC"} }
		for _, c := range []struct {
			name         string
			where, order map[string]any
			want         []string
		}{
			{"email contains, any case", map[string]any{"emailContainsFold": "BO"}, nil, []string{"bob@ms.test"}},
			{"email exact", map[string]any{"email": "ana@ms.test"}, nil, []string{"ana@ms.test"}},
			{"email exact, any case", map[string]any{"emailEqualFold": "ANA@MS.TEST"}, nil, []string{"ana@ms.test"}},
			{"name contains, any case", map[string]any{"nameContainsFold": "BETA"}, nil, []string{"bob@ms.test"}},
			{"name exact, any case", map[string]any{"nameEqualFold": "CAROL"}, nil, []string{"carol@ms.test"}},
			{"status", map[string]any{"status": "SUSPENDED"}, nil, []string{"carol@ms.test"}},
			{"role", map[string]any{"hasRoleWith": []map[string]any{{"key": "chat"}}}, asc("EMAIL"), []string{"ana@ms.test", "bob@ms.test"}},
			{"role and status", map[string]any{"hasRoleWith": []map[string]any{{"key": "dedup"}}, "statusNEQ": "SUSPENDED"}, nil, []string{"ana@ms.test"}},
			{"either role", map[string]any{"or": []map[string]any{{"hasRoleWith": []map[string]any{{"key": "full_access"}}}, {"nameContainsFold": "carol"}}}, asc("EMAIL"), []string{"carol@ms.test", owner}},
			{"no role", map[string]any{"hasRole": false}, nil, []string{}},
			{"by email", nil, asc("EMAIL"), []string{"ana@ms.test", "bob@ms.test", "carol@ms.test", owner}},
			{"by email, descending", nil, map[string]any{"field": "EMAIL", "direction": "DESC"}, []string{owner, "carol@ms.test", "bob@ms.test", "ana@ms.test"}},
			{"by name", nil, asc("NAME"), []string{"ana@ms.test", "bob@ms.test", owner, "carol@ms.test"}}, // byte order: "Owner" < "carol"
			{"by creation", nil, asc("CREATED_AT"), []string{owner, "bob@ms.test", "ana@ms.test", "carol@ms.test"}},
		} {
			if got := e.search(a.Owner, a.ID, c.where, c.order); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}

		// Activity: bob is allowed something, the usage is written; he sorts
		// last, the never-active first.
		e.ok(e.Operator, `query($in: AuthorizeInput!) { authorize(input: $in) { allowed } }`, map[string]any{"in": map[string]any{
			"accountId": a.ID, "subject": map[string]any{"memberId": bob}, "permission": "AgentChat"}})
		if err := e.Server.Service.FlushUsage(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := e.ok(a.Owner, memberSearch, map[string]any{"id": a.ID, "order": asc("LAST_ACTIVE_AT")})
		nodes := r.Get("data.account.members.edges.#.node").Array()
		last := nodes[len(nodes)-1]
		if last.Get("email").String() != "bob@ms.test" || last.Get("lastActiveAt").Type == gjson.Null {
			t.Fatalf("by last activity: %s", r.Get("data.account.members").Raw)
		}
		if nodes[0].Get("lastActiveAt").Type != gjson.Null {
			t.Fatalf("a never-active member has lastActiveAt: %s", nodes[0].Raw)
		}

		// Paging through a sort order: every member once, in order.
		var paged []string
		var after any
		for {
			r := e.ok(a.Owner, memberSearch, map[string]any{"id": a.ID, "order": asc("NAME"), "first": 3, "after": after})
			paged = append(paged, gjsonStrings(r.Get("data.account.members.edges.#.node.email").Array())...)
			if !r.Get("data.account.members.pageInfo.hasNextPage").Bool() {
				break
			}
			after = r.Get("data.account.members.pageInfo.endCursor").String()
		}
		if fmt.Sprint(paged) != fmt.Sprint([]string{"ana@ms.test", "bob@ms.test", owner, "carol@ms.test"}) {
			t.Fatalf("paged by name: %v", paged)
		}
	})
}

// K6 and member search: a caller whose emails are masked may neither filter
// nor sort by email — the matches or the order would reveal them — but may
// search by name.
func TestK6_MaskedCallersCannotSearchByEmail(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("msk", nil)
		masked := e.createRole(e.Operator, a.ID, "Masked reader", []string{"iam.members.read", "mask:member.email"})
		e.addMember(a.Owner, a.ID, "eve@msk.test", masked)
		eve := userToken(t, "eve@msk.test")
		for _, v := range []map[string]any{
			{"id": a.ID, "where": map[string]any{"emailContainsFold": "owner"}},
			{"id": a.ID, "where": map[string]any{"not": map[string]any{"or": []map[string]any{{"emailHasPrefix": "o"}}}}},
			{"id": a.ID, "order": map[string]any{"field": "EMAIL"}},
		} {
			if r := e.gql(eve, memberSearch, v); r.Code() != "FORBIDDEN" {
				t.Errorf("%v: %s", v, r)
			}
		}
		if got := e.search(eve, a.ID, map[string]any{"nameContainsFold": "own"}, nil); len(got) != 1 {
			t.Fatalf("by name: %v", got)
		}
	})
}

// §11 for the dashboard's search: a filtered, sorted page of 100 members
// sends as many statements as one of 5.
func TestDataloaders_FilteredPageStatementsAreConstant(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		const page = `query($id: ID!) { account(id: $id) { members(first: 100,
			where: {nameContainsFold: "agent", statusIn: [ACTIVE, INVITED], hasRoleWith: [{key: "chat"}]},
			orderBy: {field: NAME, direction: DESC}) {
			totalCount edges { node { id email name status lastActiveAt roles { key } effectivePermissions } } } } }`
		count := func(members int) int64 {
			a := e.newAccount(fmt.Sprintf("mf%d", members), nil)
			role := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
			for i := range members {
				e.addNamedMember(a.Owner, a.ID, fmt.Sprintf("m%d@mf.test", i), fmt.Sprintf("Agent %03d", i), role)
			}
			e.ok(a.Owner, page, map[string]any{"id": a.ID}) // warm-up
			r, n := e.fewestStatements(a.Owner, page, map[string]any{"id": a.ID})
			if got := r.Get("data.account.members.edges.#").Int(); got != int64(members) {
				t.Fatalf("got %d members, want %d: %s", got, members, r)
			}
			t.Logf("%s: a filtered page of %d members → %d SQL statements", e.Dialect, members, n)
			return n
		}
		if small, large := count(5), count(100); small != large {
			t.Fatalf("statements grow with rows: %d for 5 members, %d for 100", small, large)
		}
	})
}
