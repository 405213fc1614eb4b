package apitest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// The decision fast path: POST /v1/authorize answers exactly what the
// GraphQL field answers, for every kind of answer and caller (D1–D5).
const decisionFields = `permission allowed reason masks grantedBy { role { id key } roleKey grant chain } suggestedRoles { id key }`

// postDecision sends body to /v1/authorize as cred.
func (e *env) postDecision(cred string, body any) resp {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/v1/authorize", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	return e.send(req)
}

// sameJSON fails unless a and b hold the same JSON value.
func sameJSON(t *testing.T, what string, a, b []byte) {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v: %s", what, err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v: %s", what, err, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	if !bytes.Equal(xa, ya) {
		t.Errorf("%s differ:\n GraphQL %s\n JSON    %s", what, xa, ya)
	}
}

func TestD1_DecisionAPIAnswersLikeGraphQL(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("fastpath", map[string]any{"features": map[string]any{"customRoles": true, "resourceConstraints": true}})
		products := e.createRole(a.Owner, a.ID, "Products", []string{"products.all"})
		e.ok(e.Operator, `mutation($in: UpdateRoleInput!) { updateRole(input: $in) { role { id } } }`,
			map[string]any{"in": map[string]any{"roleId": products, "expectedVersion": 1, "addGrants": []string{"mask:member.email"}}})
		scoped := e.ok(a.Owner, `mutation($in: CreateRoleInput!) { createRole(input: $in) { role { id } } }`,
			map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Scoped", "grants": []string{"attestations:*"},
				"constraints": []map[string]any{{"attribute": "issuer_ids", "values": []string{"iss_1"}}}}}).Get("data.createRole.role.id").String()
		m := e.addMember(a.Owner, a.ID, "p@fastpath.test", products, scoped)
		key := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "backend"}).Get("data.createApiKey.secret").String()
		subject := map[string]any{"memberId": m}
		checks := []map[string]any{
			{"accountId": a.ID, "subject": subject, "permission": "identity.flows.create"}, // through products.all
			{"accountId": a.ID, "subject": subject, "permission": "AgentChat"},             // denied, with suggestions
			{"accountId": a.ID, "subject": subject, "permission": "unused.outside"},        // not in the master list
			{"accountId": a.ID, "subject": subject, "permission": "no.such.key"},           // unknown
			{"accountId": a.ID, "subject": subject, "permission": "attestations:mint"},     // constraint mismatch
			{"accountId": a.ID, "subject": subject, "permission": "attestations:mint", "resource": []map[string]any{{"attribute": "issuer_ids", "value": "iss_1"}}},
			{"accountId": a.ID, "subject": map[string]any{"email": "p@fastpath.test"}, "permission": "checks.background"},
			{"accountId": a.ID, "permission": "AgentChat"}, // the caller itself
		}
		for name, cred := range map[string]string{"operator": e.Operator, "owner": a.Owner, "API key": key} {
			var inputs []map[string]any
			for _, c := range checks {
				if name == "operator" && c["subject"] == nil {
					continue // the operator must name a subject
				}
				inputs = append(inputs, c)
				g := e.ok(cred, `query($in: AuthorizeInput!) { authorize(input: $in) { `+decisionFields+` } }`, map[string]any{"in": c})
				j := e.postDecision(cred, c)
				if j.Status != http.StatusOK {
					t.Fatalf("%s: %s", name, j)
				}
				sameJSON(t, name+" "+c["permission"].(string), []byte(g.Get("data.authorize").Raw), j.Body)
			}
			g := e.ok(cred, `query($in: [AuthorizeInput!]!) { authorizeMany(inputs: $in) { `+decisionFields+` } }`, map[string]any{"in": inputs})
			j := e.postDecision(cred, map[string]any{"checks": inputs})
			sameJSON(t, name+" batch", []byte(g.Get("data.authorizeMany").Raw), []byte(j.Get("decisions").Raw))
		}
		// Refusals carry the GraphQL code and message, with the matching status.
		ghost := map[string]any{"accountId": "acc_01M8MW0000000000000000000", "subject": subject, "permission": "AgentChat"}
		g := e.gql(a.Owner, `query($in: AuthorizeInput!) { authorize(input: $in) { allowed } }`, map[string]any{"in": ghost})
		j := e.postDecision(a.Owner, ghost)
		if j.Status != http.StatusNotFound || j.Code() != g.Code() || j.Get("errors.0.message").String() != g.Get("errors.0.message").String() {
			t.Errorf("unknown account:\n GraphQL %s\n JSON    %s", g, j)
		}
		if r := e.postDecision("", checks[0]); r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
			t.Errorf("no credentials: %s", r)
		}
		if r := e.postDecision(a.Owner, map[string]any{"accountId": a.ID, "permission": "x", "extra": 1}); r.Status != http.StatusBadRequest || r.Code() != "BAD_USER_INPUT" {
			t.Errorf("unknown field: %s", r)
		}
		// One JSON object, whole: nothing after it (encoding/json's
		// Decoder.More let a stray } or ] through), nothing cut short.
		one, _ := json.Marshal(checks[0])
		for _, body := range []string{string(one) + ` {}`, string(one) + `x`, string(one) + ` }`, string(one) + `]`,
			string(one[:len(one)-1]), `[` + string(one) + `]`, `null`} {
			req, _ := http.NewRequest(http.MethodPost, e.URL+"/v1/authorize", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+a.Owner)
			if r := e.send(req); r.Status != http.StatusBadRequest || r.Code() != "BAD_USER_INPUT" {
				t.Errorf("body %s: %s", body, r)
			}
		}
		if r := e.get("/v1/authorize"); r.Status != http.StatusMethodNotAllowed {
			t.Errorf("GET: %s", r)
		}
	})
}
