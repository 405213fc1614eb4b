package apitest

import (
	"slices"
	"sync"
	"testing"
)

const (
	addMember  = `mutation($in: AddMemberInput!) { addMember(input: $in) { member { id status roles { key } } } }`
	suspend    = `mutation($id: ID!) { suspendMember(input: {memberId: $id}) { member { id status } } }`
	reactivate = `mutation($id: ID!) { reactivateMember(input: {memberId: $id}) { member { id status } } }`
	remove     = `mutation($id: ID!) { removeMember(input: {memberId: $id}) { member { id status } } }`
	transfer   = `mutation($in: TransferOwnershipInput!) { transferOwnership(input: $in) { from { id roles { key } } to { id roles { key } } } }`
)

func TestM1_InvitedHoldsNothingUntilFirstSignIn(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("m1", nil)
		r := e.ok(a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "New@M1.test", "invite": true, "roleIds": []string{a.FullAccessID}}})
		id := r.Get("data.addMember.member.id").String()
		if r.Get("data.addMember.member.status").String() != "INVITED" || len(e.permissionsOf(id)) != 0 {
			t.Fatalf("invited member: %s", r)
		}
		// An invited owner does not count for M3: the real owner still cannot leave.
		e.fails("CONFLICT", a.Owner, suspend, map[string]any{"id": a.OwnerID})
		// Suspending an invitation is refused: reactivating it would
		// otherwise activate a member who never signed in.
		if r := e.fails("CONFLICT", a.Owner, suspend, map[string]any{"id": id}); r.Get("errors.0.extensions.reason").String() != "MEMBER_INVITED" {
			t.Fatalf("suspending an invitation: %s", r)
		}
		e.fails("CONFLICT", a.Owner, reactivate, map[string]any{"id": id})
		if len(e.permissionsOf(id)) != 0 || e.auditCount(a.ID, "member.suspended")+e.auditCount(a.ID, "member.reactivated") != 0 {
			t.Fatal("a refused suspension changed the invitation")
		}
		// First authentication activates (the email is matched case-insensitively).
		r = e.ok(userToken(t, "new@m1.test"), `{ viewer { memberships { status } } }`, nil)
		if r.Get("data.viewer.memberships.0.status").String() != "ACTIVE" || !contains(e.permissionsOf(id), "AgentChat") {
			t.Fatalf("activation: %s", r)
		}
		if e.auditCount(a.ID, "member.activated") != 1 {
			t.Fatal("activation not audited")
		}
	})
}

// An invitation made after the user signed in on this server is accepted
// when the user lists their memberships (M1, M6), once.
func TestM1_InvitationAfterSignInIsAcceptedWhenListed(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("m1late", nil)
		tok := userToken(t, "late@m1.test")
		if r := e.ok(tok, `{ viewer { memberships { status } } }`, nil); len(r.Get("data.viewer.memberships").Array()) != 0 {
			t.Fatalf("before the invitation: %s", r)
		}
		r := e.ok(a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "late@m1.test", "invite": true, "roleIds": []string{a.FullAccessID}}})
		id := r.Get("data.addMember.member.id").String()
		for range 2 {
			r = e.ok(tok, `{ viewer { memberships { status account { id } member { id } effectivePermissions } } }`, nil)
			m := r.Get("data.viewer.memberships.0")
			if len(r.Get("data.viewer.memberships").Array()) != 1 || m.Get("status").String() != "ACTIVE" ||
				m.Get("account.id").String() != a.ID || m.Get("member.id").String() != id || len(m.Get("effectivePermissions").Array()) == 0 {
				t.Fatalf("listed after the invitation: %s", r)
			}
		}
		if n := e.auditCount(a.ID, "member.activated"); n != 1 {
			t.Fatalf("%d activations audited, want 1", n)
		}
		// Listing reads the memberships once: no statement of its own
		// looks for invitations (the members, their accounts, assignments
		// and roles: 4).
		if _, n := e.statementsOf(tok, `{ viewer { memberships { account { id } } } }`, nil); n > 4 {
			t.Fatalf("listing memberships sent %d statements, want at most 4", n)
		}
	})
}

func TestM2_DefaultRoleAndDuplicates(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("m2", nil)
		r := e.ok(a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "d@m2.test"}})
		if r.Get("data.addMember.member.roles.0.key").String() != "default_access" || r.Get("data.addMember.member.status").String() != "ACTIVE" {
			t.Fatalf("default role: %s", r)
		}
		e.fails("CONFLICT", a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "D@m2.test"}})
		e.fails("BAD_USER_INPUT", a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "nope"}})
		e.fails("NOT_FOUND", a.Owner, addMember, map[string]any{"in": map[string]any{"accountId": a.ID, "email": "k@m2.test", "roleKeys": []string{"ghost"}}})
		if e.auditCount(a.ID, "member.added") != 1 {
			t.Fatal("refusals must not be audited")
		}
	})
}

func TestM3_LastOwnerCannotLeave(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("m3", nil)
		for name, q := range map[string]string{"suspend": suspend, "remove": remove} {
			r := e.fails("CONFLICT", a.Owner, q, map[string]any{"id": a.OwnerID})
			if r.Get("errors.0.extensions.reason").String() != "LAST_OWNER" {
				t.Errorf("%s: %s", name, r)
			}
		}
		r := e.fails("CONFLICT", a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": a.OwnerID, "roleIds": []string{a.DefaultAccessID}}})
		if r.Get("errors.0.extensions.reason").String() != "LAST_OWNER" {
			t.Fatalf("demotion: %s", r)
		}
		// With a second owner, one may leave.
		second := e.addMember(a.Owner, a.ID, "second@m3.test", a.FullAccessID)
		e.ok(a.Owner, suspend, map[string]any{"id": second})
		e.fails("CONFLICT", a.Owner, remove, map[string]any{"id": a.OwnerID})
		e.ok(a.Owner, reactivate, map[string]any{"id": second})
		e.ok(a.Owner, remove, map[string]any{"id": a.OwnerID})
	})
}

// M3 under concurrency: two owners demote each other at the same moment;
// exactly one wins and the account never has zero owners.
// M3 under concurrency: two owners demote, suspend or remove each other at
// the same moment. Exactly one change wins and one ACTIVE owner is left
// (the account row is locked in each change's transaction).
func TestM3_OwnersDemoteSuspendOrRemoveEachOtherAtOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		rounds := 10
		if e.Dialect == "postgres" {
			rounds = 25
		}
		changes := []struct {
			name string
			do   func(a *account, cred, target string) resp
		}{
			{"demote", func(a *account, cred, target string) resp {
				return e.gql(cred, setRoles, map[string]any{"in": map[string]any{"memberId": target, "roleIds": []string{a.DefaultAccessID}}})
			}},
			{"suspend", func(_ *account, cred, target string) resp {
				return e.gql(cred, suspend, map[string]any{"id": target})
			}},
			{"remove", func(_ *account, cred, target string) resp {
				return e.gql(cred, remove, map[string]any{"id": target})
			}},
		}
		for _, c := range changes {
			for i := 0; i < rounds; i++ {
				a := e.newAccount("m3c"+randHex(3), nil)
				b := e.addMember(a.Owner, a.ID, "b@m3c.test", a.FullAccessID)
				tokA, tokB := a.Owner, userToken(t, "b@m3c.test")
				var wg sync.WaitGroup
				results := make([]resp, 2)
				wg.Add(2)
				go func() { defer wg.Done(); results[0] = c.do(&a, tokA, b) }()
				go func() { defer wg.Done(); results[1] = c.do(&a, tokB, a.OwnerID) }()
				wg.Wait()
				ok := 0
				for _, r := range results {
					switch {
					case !r.Get("errors").Exists():
						ok++
					// The loser is refused as the last owner, or has already
					// lost the right to act: demoted (FORBIDDEN), or suspended
					// or removed, when the account is NOT_FOUND to it like
					// any account it is not an active member of.
					case r.Get("errors.0.extensions.reason").String() != "LAST_OWNER" && r.Code() != "FORBIDDEN" && r.Code() != "NOT_FOUND":
						t.Fatalf("%s round %d: unexpected failure %s", c.name, i, r)
					}
				}
				members := e.ok(e.Operator, `query($id: ID!) { account(id: $id) { members { edges { node { status roles { key } } } } } }`,
					map[string]any{"id": a.ID}).Get("data.account.members.edges").Array()
				owners := 0
				for _, m := range members {
					if m.Get("node.status").String() == "ACTIVE" && slices.Contains(gjsonStrings(m.Get("node.roles.#.key").Array()), "full_access") {
						owners++
					}
				}
				if ok != 1 || owners != 1 {
					t.Fatalf("%s round %d: %d succeeded, %d active owners left (%s / %s)", c.name, i, ok, owners, results[0], results[1])
				}
			}
		}
	})
}

func TestM4_TransferOwnership(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("m4", map[string]any{"settings": map[string]any{"roleAssignment": "SINGLE"}})
		to := e.addMember(a.Owner, a.ID, "heir@m4.test")
		r := e.ok(a.Owner, transfer, map[string]any{"in": map[string]any{"accountId": a.ID, "toMemberId": to}})
		if r.Get("data.transferOwnership.to.roles.0.key").String() != "full_access" ||
			r.Get("data.transferOwnership.from.roles.0.key").String() != "default_access" ||
			r.Get("data.transferOwnership.from.roles.#").Int() != 1 {
			t.Fatalf("transfer: %s", r)
		}
		// The previous owner has no ownership left to give (default_access
		// keeps iam.members.* here: truora.users, which implies it, is in
		// the master list and not excluded).
		r = e.fails("CONFLICT", a.Owner, transfer, map[string]any{"in": map[string]any{"accountId": a.ID, "toMemberId": to}})
		if r.Get("errors.0.extensions.reason").String() != "NOT_OWNER" {
			t.Errorf("second transfer: %s", r)
		}
		e.fails("BAD_USER_INPUT", e.Operator, transfer, map[string]any{"in": map[string]any{"accountId": a.ID, "toMemberId": a.OwnerID}})
		if e.auditCount(a.ID, "ownership.transferred") != 1 {
			t.Fatal("transfer not audited")
		}
	})
}

func TestM5_SuspendedAndRemovedLoseAccessAtOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("m5", nil)
		admin := e.addMember(a.Owner, a.ID, "admin@m5.test", a.FullAccessID)
		tok := userToken(t, "admin@m5.test")
		const q = `query($id: ID!) { account(id: $id) { members { totalCount } } }`
		e.ok(tok, q, map[string]any{"id": a.ID})
		e.ok(a.Owner, suspend, map[string]any{"id": admin})
		e.fails("NOT_FOUND", tok, q, map[string]any{"id": a.ID})
		if len(e.permissionsOf(admin)) != 0 {
			t.Fatal("suspended member keeps permissions")
		}
		e.fails("CONFLICT", a.Owner, suspend, map[string]any{"id": admin})
		e.ok(a.Owner, reactivate, map[string]any{"id": admin})
		e.ok(tok, q, map[string]any{"id": a.ID})
		e.ok(a.Owner, remove, map[string]any{"id": admin})
		e.fails("NOT_FOUND", tok, q, map[string]any{"id": a.ID})
		r := e.ok(e.Operator, `query($id: ID!) { node(id: $id) { ... on Member { status roles { key } } } }`, map[string]any{"id": admin})
		if r.Get("data.node.status").String() != "REMOVED" || r.Get("data.node.roles.#").Int() != 0 {
			t.Fatalf("removed member: %s", r)
		}
		if e.auditCount(a.ID, "member.removed") != 1 {
			t.Fatal("removal not audited")
		}
	})
}
