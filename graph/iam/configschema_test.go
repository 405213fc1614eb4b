package iam

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, _ := json.Marshal(AccessConfigSchema())
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(AccessConfigSchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(AccessConfigSchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, doc string) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(v)
}

// C1: the JSON Schema accepts every document the server exports (here: one
// with every field filled) and what the server accepts, and refuses what
// ParseAccessConfig refuses for its shape: unknown fields, wrong words.
func TestC1_TheConfigSchemaMatchesTheDocument(t *testing.T) {
	s := compiledSchema(t)
	full := AccessConfig{
		Settings: ConfigSettings{RoleAssignment: "SINGLE", DefaultAccessExcludes: []string{"iam.*"}},
		Roles:    []ConfigRole{{Key: "r", Name: "R", Description: "d", Grants: []string{"a.b"}, Constraints: map[string][]string{"issuer_ids": {"i1"}}}},
		Scopes:   []ConfigScope{{Key: "read", Description: "d", Grants: []string{"a.b"}}},
		Members:  []ConfigMember{{Email: "a@b.test", Name: "A", Roles: []string{"r"}, Status: "INVITED"}},
		SodRules: []ConfigRule{{Name: "n", Permissions: []string{"a", "b"}, Level: "ROLE", Mode: "ENFORCE"}},
	}
	raw, _ := json.Marshal(full)
	for _, doc := range []string{string(raw), `{}`, `{"roles": [{"key": "x", "name": "X"}]}`} {
		if err := validate(t, s, doc); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(doc), &m)
		if _, err := ParseAccessConfig(m); err != nil {
			t.Errorf("the server refuses what the schema accepts: %s: %v", doc, err)
		}
	}
	for _, doc := range []string{
		`{"rolez": []}`,
		`{"settings": {"roleAssignment": "SOMETIMES"}}`,
		`{"members": [{"email": "a@b.test", "status": "REMOVED"}]}`,
		`{"roles": [{"key": "x", "name": "X", "grant": ["a"]}]}`,
		`{"sodRules": [{"name": "n", "permissions": ["a", "b"], "level": "ROLE"}]}`,
	} {
		if err := validate(t, s, doc); err == nil {
			t.Errorf("the schema accepts %s", doc)
		}
	}
}
