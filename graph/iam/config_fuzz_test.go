package iam_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// FuzzC1_ParseAccessConfig reads arbitrary JSON documents: ParseAccessConfig
// never panics and refuses with BAD_USER_INPUT, and what it accepts is a
// fixed point: the AccessConfig marshaled to JSON (as exportAccessConfig
// answers it), decoded like a request's document and parsed again, gives an
// equal AccessConfig and the same JSON.
func FuzzC1_ParseAccessConfig(f *testing.F) {
	for _, doc := range []string{
		`{}`,
		`{"settings":{"roleAssignment":"SINGLE","defaultAccessExcludes":["iam.*","truora.*"]},
		  "roles":[{"key":"support","name":"Support","description":"Answers tickets","grants":["identity.flows.read","identity.*"],
		            "constraints":{"issuer_ids":["iss_1","iss_2"]}},
		           {"key":"empty","name":"Empty"}],
		  "scopes":[{"key":"read","description":"Read","grants":["identity.flows.read"]},{"key":"none"}],
		  "members":[{"email":" Bo@Acme.TEST ","name":"Bo","roles":["support","empty"],"status":"INVITED"},
		             {"email":"ana@acme.test","roles":[]}],
		  "sodRules":[{"name":"mint-approve","permissions":["governance:approve","attestations:mint","attestations:mint"],"level":"MEMBER","mode":"ENFORCE"}]}`,
		`{"settings":{"defaultAccessExcludes":[]},"roles":null,"scopes":[],"members":null,"sodRules":[]}`,
		`{"roles":[{"key":"r","name":"R","constraints":{}}]}`,
		`{"roles":[{"key":"r","name":"R","constraints":{"a":null,"b":[]}}]}`,
		`{"settings":{"roleAssignment":"single"}}`,
		`{"settings":{"defaultAccessExcludes":["a..b"]}}`,
		`{"roles":[{"key":"full_access","name":"Owner"}]}`,
		`{"roles":[{"key":"Bad Key","name":"x"},{"key":"r","name":"  "}]}`,
		`{"roles":[{"key":"r","name":"R"},{"key":"r","name":"R2"}]}`,
		`{"scopes":[{"key":"s"},{"key":"s"}]}`,
		`{"members":[{"email":"a@b.c"},{"email":"A@B.C "}]}`,
		`{"members":[{"email":"not an email"}]}`,
		`{"members":[{"email":"a@b.c","status":"REMOVED"}]}`,
		`{"members":[{"email":"a@b.c","roles":["z","a","m"]}]}`,
		`{"sodRules":[{"name":"x","permissions":["a","a"],"level":"ROLE","mode":"REPORT"}]}`,
		`{"sodRules":[{"name":"x","permissions":["b","a"],"level":"ROLE","mode":"REPORT"},{"name":"x","permissions":["a","b"],"level":"ROLE","mode":"REPORT"}]}`,
		`{"unknown":1}`,
		`{"roles":[{"key":"r","name":"R","grants":"identity.*"}]}`,
		`{"roles":{"key":"r"}}`,
		`{"settings":null,"roles":[null]}`,
		`{"members":[{"email":"a@b.c","roles":[null]}]}`,
		`{"roles":[{"key":"r","name":"R\u0000","description":"\ud800"}]}`,
	} {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var doc map[string]any
		if json.Unmarshal([]byte(text), &doc) != nil {
			return // not a JSON object: the GraphQL layer refuses it before
		}
		cfg, err := iam.ParseAccessConfig(doc)
		if err != nil {
			if cfg != nil || apperr.CodeOf(err) != apperr.BadUserInput {
				t.Fatalf("ParseAccessConfig(%s) = %+v, %v; want no config and BAD_USER_INPUT", text, cfg, err)
			}
			return
		}
		exported, err := json.Marshal(cfg)
		if err != nil {
			t.Fatalf("marshal %+v: %v", cfg, err)
		}
		var again map[string]any
		if err := json.Unmarshal(exported, &again); err != nil {
			t.Fatalf("decode %s: %v", exported, err)
		}
		cfg2, err := iam.ParseAccessConfig(again)
		if err != nil {
			t.Fatalf("%s was accepted, but its export %s is refused: %v", text, exported, err)
		}
		// Equal as documents: what a parsed document leaves out (an absent
		// or null section or setting) is left out of its export as null.
		a, _ := json.Marshal(withoutEmptyConstraints(cfg))
		b, _ := json.Marshal(withoutEmptyConstraints(cfg2))
		if !bytes.Equal(a, b) {
			t.Fatalf("%s parses as\n%s\nits export %s as\n%s", text, a, exported, b)
		}
		if exported2, _ := json.Marshal(cfg2); !bytes.Equal(exported, exported2) {
			t.Fatalf("export of %s changes when parsed again:\n%s\n%s", text, exported, exported2)
		}
	})
}

// withoutEmptyConstraints returns a copy of c whose roles' empty constraint
// maps are nil. An empty map and none mean the same (no constraints), and
// the export omits both, but ParseAccessConfig keeps `"constraints": {}` as
// an empty map where the export parses as nil.
func withoutEmptyConstraints(c *iam.AccessConfig) iam.AccessConfig {
	out := *c
	out.Roles = slices.Clone(c.Roles)
	for i := range out.Roles {
		if len(out.Roles[i].Constraints) == 0 {
			out.Roles[i].Constraints = nil
		}
	}
	return out
}
