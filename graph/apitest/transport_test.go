package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// oneDocument decodes a response body that must be exactly one JSON value.
func oneDocument(t *testing.T, r resp) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not JSON: %s: %v", r, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("more than one JSON value: %s", r)
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("no X-Content-Type-Options: nosniff: %v", r.Header)
	}
	return doc
}

// The POST transport writes an operation's data as gqlgen produced it
// (graph/server/transport.go): every response, whole or partial, and every
// request refused before it runs, is one JSON document, and strings with
// HTML's characters come back as they were sent.
func TestTransport_EveryResponseIsOneJSONDocument(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("transport", nil)
		const name = `<b>Ops & "Co"</b> </script>`
		id := e.createRole(a.Owner, a.ID, name, []string{"AgentChat"})

		r := e.ok(a.Owner, `query($id: ID!) { node(id: $id) { ... on Role { name } } }`, map[string]any{"id": id})
		if doc := oneDocument(t, r); r.Get("data.node.name").String() != name || doc["errors"] != nil {
			t.Fatalf("the role's name: %s", r)
		}

		other := e.newAccount("transport-other", nil)
		r = e.gql(a.Owner, `query($own: ID!, $other: ID!) { own: account(id: $own) { id } other: account(id: $other) { id } }`,
			map[string]any{"own": a.ID, "other": other.ID})
		oneDocument(t, r)
		if r.Status != http.StatusOK || r.Get("data.own.id").String() != a.ID || !r.Get("data.other").Exists() ||
			r.Get("data.other").Type.String() != "Null" || r.Code() != "NOT_FOUND" || r.Get("errors.0.path.0").String() != "other" {
			t.Fatalf("a partial response: %s", r)
		}

		r = e.gql(a.Owner, `query { account(id: "x") { noSuchField } }`, nil)
		if oneDocument(t, r); r.Status == http.StatusOK || r.Code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Fatalf("a request that fails validation: %s", r)
		}

		r = e.post(a.Owner, "application/json", []byte(`{"query": `))
		if oneDocument(t, r); r.Status != http.StatusBadRequest || !r.Get("errors.0.message").Exists() {
			t.Fatalf("an undecodable body: %s", r)
		}
	})
}

// POST and GET answer with one response, so they cannot deliver a deferred
// fragment later: they answer it in that response, as if it were not
// deferred (@defer is a hint a server may decline). gqlgen deferred it
// anyway, and its concurrent fields stayed null with "hasNext": true and
// nothing after. A document that defers is rewritten for the request only
// (graph/server's TestWithoutDefer_CopiesTheOperationAndItsFragments: the
// cached document is untouched), so asking again gives the same answer.
func TestTransport_DeferredFragmentsAnswerInTheOneResponse(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("defer", nil)
		e.createRole(a.Owner, a.ID, "Deferred", []string{"AgentChat"})
		const q = `query($id: ID!, $later: Boolean!) { account(id: $id) { id
			... @defer(label: "d") { name members(first: 2) { totalCount } }
			...rolesLater @defer(if: $later) } }
			fragment rolesLater on Account { roles(first: 5) { totalCount edges { node { name ... @defer { key } } } } }`
		check := func(how string, r resp) {
			t.Helper()
			doc := oneDocument(t, r)
			if r.Status != http.StatusOK || doc["errors"] != nil || doc["hasNext"] != nil ||
				r.Get("data.account.id").String() != a.ID || r.Get("data.account.name").String() != "Account defer" ||
				r.Get("data.account.members.totalCount").Int() < 1 || r.Get("data.account.roles.totalCount").Int() < 1 ||
				!r.Get(`data.account.roles.edges.#(node.name=="Deferred").node.key`).Exists() {
				t.Fatalf("%s: a deferred fragment is not answered in the response: %s", how, r)
			}
		}
		for _, later := range []bool{true, false, true} {
			check("POST", e.gql(a.Owner, q, map[string]any{"id": a.ID, "later": later}))
		}
		vars, _ := json.Marshal(map[string]any{"id": a.ID, "later": true})
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/graphql?"+url.Values{"query": {q}, "variables": {string(vars)}}.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+a.Owner)
		check("GET", e.send(req))
	})
}
