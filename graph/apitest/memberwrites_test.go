package apitest

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// readsWholeAccount is a statement reading every member, or every
// assignment, of an account: what building a model from scratch reads.
var readsWholeAccount = regexp.MustCompile("FROM [`\"](members|assignments)[`\"] WHERE \\(?[`\"](members|assignments)[`\"]\\.[`\"]account_id[`\"] = (\\?|\\$1)( AND [`\"]members[`\"]\\.[`\"]status[`\"] IN [^)]*\\))?$")

// M2 at scale: a member write reads the members it changes, not the whole
// account. addMember, setMemberRoles, suspendMember, reactivateMember,
// removeMember and transferOwnership each read every member and every
// assignment of the account again, inside the transaction and under the
// account's lock, to make the next model: one write at a time, each as slow
// as the account is large. Now the change names the members it wrote, the
// commit reads those and puts them into the model, and each decision after
// it is the one a server reading the database afresh makes.
func TestM2_AMemberWriteReadsOnlyTheMembersItChanges(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("memberwrites", nil)
		chat := e.createRole(a.Owner, a.ID, "Chat", []string{"AgentChat"})
		products := e.createRole(a.Owner, a.ID, "Products", []string{"products.all"})
		bulk := e.bulkMembers(a.ID, chat, 300)
		// V1's MEMBER-level ENFORCE rules are checked on every change.
		e.ok(a.Owner, `mutation($in: CreateSodRuleInput!) { createSodRule(input: $in) { sodRule { id } } }`, map[string]any{"in": map[string]any{
			"accountId": a.ID, "name": "chat apart from products", "permissions": []string{"AgentChat", "products.all"}, "level": "MEMBER", "mode": "ENFORCE"}})
		// A server that has not seen the rows bulkMembers wrote, its model warm.
		s := newEnvOn(t, e.Dialect, server.Config{}, e.DB.URL)
		allowed := func(srv *env, subject map[string]any, permission string) bool {
			t.Helper()
			r := srv.decide(srv.Operator, map[string]any{"accountId": a.ID, "subject": subject, "permission": permission})
			return r.Get("data.authorize.allowed").Bool()
		}
		member := func(id string) map[string]any { return map[string]any{"memberId": id} }
		if !allowed(s, member(bulk), "AgentChat") {
			t.Fatal("a bulk member does not hold Chat")
		}
		write := func(what, query string, in map[string]any) resp {
			t.Helper()
			r, tr := s.trackRequest(s.request(a.Owner, query, map[string]any{"in": in}))
			if r.Status != 200 || r.Get("errors").Exists() {
				t.Fatalf("%s: %s", what, r)
			}
			for _, st := range tr.Statements() {
				if readsWholeAccount.MatchString(st.Query) {
					t.Errorf("%s reads the whole account: %s", what, st.Query)
				}
			}
			return r
		}
		// Each decision on s, after each write; the last of each, then, on a
		// server that reads everything afresh.
		type want struct {
			subject    map[string]any
			permission string
			allowed    bool
		}
		wants := map[string]want{}
		expect := func(subject map[string]any, permission string, ok bool) {
			t.Helper()
			if got := allowed(s, subject, permission); got != ok {
				t.Errorf("%v %s: allowed %v, want %v", subject, permission, got, ok)
			}
			wants[fmt.Sprint(subject, permission)] = want{subject, permission, ok}
		}

		write("setMemberRoles", `mutation($in: SetMemberRolesInput!) { setMemberRoles(input: $in) { member { id } } }`,
			map[string]any{"memberId": bulk, "roleIds": []string{products}})
		expect(member(bulk), "products.all", true)
		expect(member(bulk), "AgentChat", false)
		r := s.gql(a.Owner, `mutation($in: SetMemberRolesInput!) { setMemberRoles(input: $in) { member { id } } }`,
			map[string]any{"in": map[string]any{"memberId": bulk, "roleIds": []string{products, chat}}})
		if r.Get("errors.0.extensions.reason").String() != "SOD_VIOLATION" || !strings.Contains(r.Get("errors.0.message").String(), bulk) {
			t.Errorf("a member holding both: %s", r)
		}

		r = write("addMember", `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id } } }`,
			map[string]any{"accountId": a.ID, "email": "aa-new@memberwrites.test", "roleIds": []string{chat}})
		added := r.Get("data.addMember.member.id").String()
		expect(member(added), "AgentChat", true)
		expect(map[string]any{"email": "aa-new@memberwrites.test"}, "AgentChat", true) // found by its user

		write("suspendMember", `mutation($in: MemberInput!) { suspendMember(input: $in) { member { id } } }`, map[string]any{"memberId": bulk})
		expect(member(bulk), "products.all", false)
		write("reactivateMember", `mutation($in: MemberInput!) { reactivateMember(input: $in) { member { id } } }`, map[string]any{"memberId": bulk})
		expect(member(bulk), "products.all", true)

		// An invitation's first sign-in (M1) leaves s's model warm, with the
		// member active: it dropped it, and the next request read the
		// account whole.
		write("addMember (invite)", `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id } } }`,
			map[string]any{"accountId": a.ID, "email": "invited@memberwrites.test", "invite": true, "roleIds": []string{chat}})
		expect(map[string]any{"email": "invited@memberwrites.test"}, "AgentChat", false)
		met := adminOf(t, s)
		before := met.scrape()
		r, tr := s.trackRequest(s.request(userToken(t, "invited@memberwrites.test"), `{ viewer { memberships { status } } }`, nil))
		if r.Get("data.viewer.memberships.0.status").String() != "ACTIVE" {
			t.Fatalf("the invitation's first sign-in: %s", r)
		}
		for _, st := range tr.Statements() {
			if readsWholeAccount.MatchString(st.Query) {
				t.Errorf("the invitation's first sign-in reads the whole account: %s", st.Query)
			}
		}
		expect(map[string]any{"email": "invited@memberwrites.test"}, "AgentChat", true)
		delta(t, before, met.scrape(), 0, "gatehouse_model_load_duration_seconds")

		write("removeMember", `mutation($in: MemberInput!) { removeMember(input: $in) { member { id } } }`, map[string]any{"memberId": bulk})
		expect(member(bulk), "products.all", false)

		write("transferOwnership", `mutation($in: TransferOwnershipInput!) { transferOwnership(input: $in) { from { id } to { id } } }`,
			map[string]any{"accountId": a.ID, "toMemberId": added, "demoteToRoleId": chat})
		expect(member(added), "governance:approve", true)
		expect(map[string]any{"email": "owner@memberwrites.test"}, "governance:approve", false)
		expect(map[string]any{"email": "owner@memberwrites.test"}, "AgentChat", true)

		fresh := newEnvOn(t, e.Dialect, server.Config{}, e.DB.URL)
		for _, w := range wants {
			if got := allowed(fresh, w.subject, w.permission); got != w.allowed {
				t.Errorf("a fresh server: %v %s: allowed %v, want %v", w.subject, w.permission, got, w.allowed)
			}
		}
	})
}
