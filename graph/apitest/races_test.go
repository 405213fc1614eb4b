package apitest

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
)

// D6, S2, R7, M3: every check of what the actor holds is made on the state
// the change commits on. Each case races one mutation of an admin against
// the owner demoting that admin, barrier-started, many times; afterwards the
// account's audit chain is replayed in commit order (seq) and nothing the
// admin committed after a demotion may exceed what the admin then held.

// raceTrials is how many times each case is raced (GATEHOUSE_TEST_RACE_TRIALS).
func raceTrials() int {
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_TEST_RACE_TRIALS")); err == nil && n > 0 {
		return n
	}
	return 200
}

// raceFixture is an account with an owner, an admin who holds full_access
// between trials, a plain member and the roles the admin is demoted to.
type raceFixture struct {
	e        *env
	a        account
	admin    string // admin's JWT
	adminID  string // member id
	adminUsr string // user id: the actor id of the admin's events
	memberID string // a member without full_access, a target
	roles    map[string]string
	// demoted maps each demotion role key to what its holder may do.
	demoted map[string][]string
}

// The roles an admin is demoted to: nothing at all, or a single area.
var raceRoles = map[string][]string{
	"nothing":   {},
	"keys_only": {"iam.keys.manage", "iam.keys.read"},
	"roles_only": {
		"iam.roles.manage", "iam.roles.read",
	},
	"chat": {"AgentChat"},
}

func newRaceFixture(t *testing.T, e *env, slug string) *raceFixture {
	f := &raceFixture{e: e, a: e.newAccount(slug, nil), roles: map[string]string{}, demoted: map[string][]string{}}
	for key, grants := range raceRoles {
		f.roles[key] = e.createRole(f.a.Owner, f.a.ID, key, grants)
		f.demoted[key] = withImplied(grants...)
	}
	f.admin = userToken(t, "admin@"+slug+".test")
	f.adminID = e.addMember(f.a.Owner, f.a.ID, "admin@"+slug+".test", f.a.FullAccessID)
	f.memberID = e.addMember(f.a.Owner, f.a.ID, "member@"+slug+".test", f.roles["chat"])
	r := e.ok(f.admin, `{ viewer { id } }`, nil)
	f.adminUsr = r.Get("data.viewer.id").String()
	if f.adminUsr == "" {
		t.Fatalf("admin user: %s", r)
	}
	return f
}

// setRoles makes the owner set a member's roles (by id).
func (f *raceFixture) setRoles(memberID string, roleIDs ...string) resp {
	return f.e.gql(f.a.Owner, setRoles, map[string]any{"in": map[string]any{"memberId": memberID, "roleIds": roleIDs}})
}

// raceCase is one mutation raced against the admin's demotion.
type raceCase struct {
	name string
	// demoteTo is the role the admin is demoted to.
	demoteTo string
	query    string
	// vars prepares trial i (as the owner or the operator) and returns the
	// admin's variables.
	vars func(f *raceFixture, i int) map[string]any
}

func raceCases() []raceCase {
	in := func(m map[string]any) map[string]any { return map[string]any{"in": m} }
	return []raceCase{
		{name: "createApiKey/snapshot", demoteTo: "keys_only",
			query: `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } } }`,
			vars: func(f *raceFixture, i int) map[string]any {
				return in(map[string]any{"accountId": f.a.ID, "name": fmt.Sprintf("k%d", i)})
			}},
		{name: "createApiKey/permissions", demoteTo: "keys_only",
			query: `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } } }`,
			vars: func(f *raceFixture, i int) map[string]any {
				return in(map[string]any{"accountId": f.a.ID, "name": fmt.Sprintf("k%d", i), "permissions": []string{"AgentChat"}})
			}},
		{name: "createRole", demoteTo: "roles_only",
			query: `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
			vars: func(f *raceFixture, i int) map[string]any {
				return in(map[string]any{"accountId": f.a.ID, "name": fmt.Sprintf("Race %d", i), "grants": []string{"AgentChat"}})
			}},
		{name: "updateRole", demoteTo: "roles_only",
			query: `mutation($in: UpdateRoleInput!) { updateRole(input: $in) { role { id } } }`,
			vars: func(f *raceFixture, i int) map[string]any {
				id := f.e.createRole(f.a.Owner, f.a.ID, fmt.Sprintf("Target %d", i), nil)
				return in(map[string]any{"roleId": id, "expectedVersion": 1, "addGrants": []string{"AgentChat"}})
			}},
		{name: "deleteRole", demoteTo: "nothing",
			query: `mutation($in: DeleteRoleInput!) { deleteRole(input: $in) { deletedRoleId } }`,
			vars: func(f *raceFixture, i int) map[string]any {
				id := f.e.createRole(f.a.Owner, f.a.ID, fmt.Sprintf("Doomed %d", i), nil)
				return in(map[string]any{"roleId": id})
			}},
		{name: "addMember", demoteTo: "nothing",
			query: addMember,
			vars: func(f *raceFixture, i int) map[string]any {
				return in(map[string]any{"accountId": f.a.ID, "email": fmt.Sprintf("new%d@race.test", i), "roleIds": []string{f.roles["chat"]}})
			}},
		{name: "invite", demoteTo: "nothing",
			query: addMember,
			vars: func(f *raceFixture, i int) map[string]any {
				return in(map[string]any{"accountId": f.a.ID, "email": fmt.Sprintf("inv%d@race.test", i), "invite": true, "roleIds": []string{f.roles["chat"]}})
			}},
		{name: "setMemberRoles", demoteTo: "chat",
			query: setRoles,
			vars: func(f *raceFixture, i int) map[string]any {
				f.setRoles(f.memberID, f.roles["chat"])
				return in(map[string]any{"memberId": f.memberID, "roleIds": []string{f.roles["keys_only"]}})
			}},
		{name: "suspendMember", demoteTo: "nothing",
			query: suspend,
			vars: func(f *raceFixture, i int) map[string]any {
				f.e.gql(f.a.Owner, reactivate, map[string]any{"id": f.memberID})
				return map[string]any{"id": f.memberID}
			}},
		{name: "removeMember", demoteTo: "nothing",
			query: remove,
			vars: func(f *raceFixture, i int) map[string]any {
				return map[string]any{"id": f.e.addMember(f.a.Owner, f.a.ID, fmt.Sprintf("gone%d@race.test", i), f.roles["chat"])}
			}},
		{name: "transferOwnership", demoteTo: "nothing",
			query: transfer,
			vars: func(f *raceFixture, i int) map[string]any {
				f.setRoles(f.memberID, f.roles["chat"])
				return in(map[string]any{"accountId": f.a.ID, "toMemberId": f.memberID, "demoteToRoleId": f.roles["chat"]})
			}},
		{name: "createScope", demoteTo: "keys_only",
			query: `mutation($in: CreateScopeInput!) { createScope(input: $in) { scope { id } } }`,
			vars: func(f *raceFixture, i int) map[string]any {
				return in(map[string]any{"accountId": f.a.ID, "key": fmt.Sprintf("s%d", i), "grants": []string{"AgentChat"}})
			}},
		{name: "revokeApiKey", demoteTo: "chat",
			query: `mutation($in: RevokeApiKeyInput!) { revokeApiKey(input: $in) { apiKey { id } } }`,
			vars: func(f *raceFixture, i int) map[string]any {
				r := f.e.ok(f.a.Owner, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { apiKey { id } } }`,
					in(map[string]any{"accountId": f.a.ID, "name": fmt.Sprintf("r%d", i), "permissions": []string{"AgentChat"}}))
				return in(map[string]any{"apiKeyId": r.Get("data.createApiKey.apiKey.id").String()})
			}},
		{name: "createSodRule", demoteTo: "chat",
			query: `mutation($in: CreateSodRuleInput!) { createSodRule(input: $in) { sodRule { id } } }`,
			vars: func(f *raceFixture, i int) map[string]any {
				return in(map[string]any{"accountId": f.a.ID, "name": fmt.Sprintf("rule %d", i), "permissions": []string{"checks.background", "view_duplicates"},
					"level": "MEMBER", "mode": "REPORT"})
			}},
		{name: "applyAccessConfig", demoteTo: "roles_only",
			query: `mutation($in: ApplyAccessConfigInput!) { applyAccessConfig(input: $in) { applied } }`,
			vars: func(f *raceFixture, i int) map[string]any {
				// The whole document as exported, with one role more.
				r := f.e.ok(f.a.Owner, `query($id: ID!) { account(id: $id) { exportAccessConfig } }`, map[string]any{"id": f.a.ID})
				doc, _ := r.Get("data.account.exportAccessConfig").Value().(map[string]any)
				roles, _ := doc["roles"].([]any)
				doc["roles"] = append(roles, map[string]any{"key": fmt.Sprintf("cfg%d", i), "name": fmt.Sprintf("Cfg %d", i), "grants": []string{"AgentChat"}})
				return in(map[string]any{"accountId": f.a.ID, "document": doc})
			}},
		{name: "updateAccount", demoteTo: "chat",
			query: `mutation($in: UpdateAccountInput!) { updateAccount(input: $in) { account { id } } }`,
			vars: func(f *raceFixture, i int) map[string]any {
				return in(map[string]any{"accountId": f.a.ID, "name": fmt.Sprintf("Renamed %d", i)})
			}},
	}
}

func TestD6_NoDecisionOnAStaleViewOfTheActor(t *testing.T) {
	trials := raceTrials()
	forEachDB(t, func(t *testing.T, e *env) {
		for i, c := range raceCases() {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel() // each case in an account of its own
				f := newRaceFixture(t, e, fmt.Sprintf("race%d", i))
				granted, after := 0, 0
				for n := range trials {
					if r := f.setRoles(f.adminID, f.a.FullAccessID); r.Get("errors").Exists() {
						t.Fatalf("restoring the admin: %s", r)
					}
					vars := c.vars(f, n)
					start := make(chan struct{})
					var wg sync.WaitGroup
					var demotion, attempt resp
					wg.Add(2)
					go func() {
						defer wg.Done()
						<-start
						demotion = f.setRoles(f.adminID, f.roles[c.demoteTo])
					}()
					go func() {
						defer wg.Done()
						<-start
						attempt = e.gql(f.admin, c.query, vars)
					}()
					close(start)
					wg.Wait()
					if demotion.Get("errors").Exists() {
						t.Fatalf("demotion: %s", demotion)
					}
					if !attempt.Get("errors").Exists() {
						granted++
					} else if code := attempt.Code(); code != "FORBIDDEN" && code != "NOT_FOUND" && code != "CONFLICT" {
						t.Fatalf("trial %d: %s", n, attempt)
					}
				}
				escalations, checked := f.replay(t)
				after = checked
				t.Logf("%s: %d trials, %d admin changes committed, %d after a demotion, %d escalations", c.name, trials, granted, after, escalations)
				if escalations > 0 {
					t.Errorf("%d of %d changes committed after a demotion exceed what the demoted admin held", escalations, after)
				}
			})
		}
	})
}

// replay walks the account's audit chain in commit order, tracking the
// admin's roles, and counts the admin's changes committed while demoted that
// exceed the demoted role.
func (f *raceFixture) replay(t *testing.T) (escalations, whileDemoted int) {
	events, err := f.e.DB.Client.AuditEvent.Query().Where(auditevent.AccountID(f.a.ID)).
		Order(ent.Asc(auditevent.FieldSeq)).All(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	held := []string{"full_access"}
	for _, ev := range events {
		switch {
		case ev.Action == "member.roles.changed" && ev.TargetID == f.adminID:
			held = stringsOf(ev.Changes["after"])
			continue
		case ev.ActorID != f.adminUsr || slices.Contains(held, "full_access"):
			continue
		}
		whileDemoted++
		if !f.within(ev, held) {
			escalations++
			t.Logf("escalation at seq %d: %s %s %v while holding %v", ev.Seq, ev.Action, ev.TargetID, ev.Changes, held)
		}
		if ev.Action == "ownership.transferred" {
			held = stringsOf(ev.Changes["fromRoles"].(map[string]any)["after"])
		}
	}
	return escalations, whileDemoted
}

// within reports whether a change by the demoted admin lies within the
// permissions of the roles held: the only ones that can are a key whose
// snapshot is within keys_only, made by a holder of keys_only.
func (f *raceFixture) within(ev *ent.AuditEvent, held []string) bool {
	var may []string
	for _, key := range held {
		may = append(may, f.demoted[key]...)
	}
	if ev.Action != "apikey.created" || !slices.Contains(may, "iam.keys.create") {
		return false
	}
	for _, p := range stringsOf(ev.Changes["permissions"]) {
		if !slices.Contains(may, p) {
			return false
		}
	}
	return true
}

func stringsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}
