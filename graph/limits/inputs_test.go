package limits

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

const inputSDL = `
scalar Map
scalar Time
scalar Cursor
enum Kind { A B }
input ConstraintInput { attribute: String!  values: [String!]! }
input RoleInput {
  accountId: ID!  name: String  description: String  email: String  reason: String  grants: [String!]
  constraints: [ConstraintInput!]  kind: Kind  version: Int  expiresAt: Time  document: Map
}
input PermissionInput { key: String!  description: String }
input ThingWhereInput { and: [ThingWhereInput!]  nameContains: String  descriptionHasPrefix: String  actorIDIn: [String!]  id: ID }
type Query { things(where: ThingWhereInput, after: Cursor, ids: [ID!]): Boolean }
type Mutation { save(input: RoleInput!): Boolean  define(input: PermissionInput!): Boolean }
`

var inputSchema = gqlparser.MustLoadSchema(&ast.Source{Name: "inputs.graphql", Input: inputSDL})

const save = `mutation($in: RoleInput!) { saved: save(input: $in) }`

// role is a valid RoleInput with fields set from kv pairs.
func role(kv ...any) map[string]any {
	in := map[string]any{"accountId": "acc_1"}
	for i := 0; i < len(kv); i += 2 {
		in[kv[i].(string)] = kv[i+1]
	}
	return map[string]any{"in": in}
}

func strs(n int, s string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// refusedAt asserts that query is refused for limit at field, the answer
// never quoting the value.
func refusedAt(t *testing.T, cfg Config, limit, field, query string, vars map[string]any) gqlError {
	t.Helper()
	e := refused(t, newServerOn(inputSchema, cfg), limit, query, vars)
	if e.Extensions["field"] != field || e.Extensions["code"] != "BAD_USER_INPUT" {
		t.Fatalf("want field %q, got %+v", field, e)
	}
	if len(e.Message) > 300 {
		t.Fatalf("the error is %d bytes long: %.200s…", len(e.Message), e.Message)
	}
	return e
}

func TestInput_StringLengthsByKind(t *testing.T) {
	h := newServerOn(inputSchema, Config{})
	cases := []struct {
		field string
		max   int
	}{
		{"name", MaxNameLength}, {"description", MaxDescriptionLength}, {"email", MaxEmailLength},
		{"reason", MaxReasonLength}, {"accountId", MaxIDLength},
	}
	for _, c := range cases {
		passes(t, h, save, role(c.field, strings.Repeat("é", c.max)))
		e := refusedAt(t, Config{}, "length", "input."+c.field, save, role(c.field, strings.Repeat("é", c.max+1)))
		if num(e.Extensions["max"]) != c.max || num(e.Extensions["actual"]) != c.max+1 {
			t.Errorf("%s: %+v", c.field, e)
		}
	}
	// Lists of keys, values in nested inputs, and per-type overrides.
	refusedAt(t, Config{}, "length", "input.grants[2]", save, role("grants", []string{"a", "b", strings.Repeat("k", MaxKeyLength+1)}))
	refusedAt(t, Config{}, "length", "input.constraints[0].values[1]", save,
		role("constraints", []map[string]any{{"attribute": "issuer_ids", "values": []string{"x", strings.Repeat("v", MaxNameLength+1)}}}))
	refusedAt(t, Config{}, "length", "input.constraints[0].attribute", save,
		role("constraints", []map[string]any{{"attribute": strings.Repeat("a", MaxKeyLength+1), "values": []string{"x"}}}))
	const define = `mutation($in: PermissionInput!) { define(input: $in) }`
	passes(t, h, define, map[string]any{"in": map[string]any{"key": "k", "description": strings.Repeat("d", MaxPermissionDescLen)}})
	refusedAt(t, Config{}, "length", "input.description", define, map[string]any{"in": map[string]any{"key": "k", "description": strings.Repeat("d", MaxPermissionDescLen+1)}})
	// A 1 MB value is refused by its place, in a short error.
	e := refusedAt(t, Config{}, "length", "input.email", save, role("email", strings.Repeat("x", 1_000_000)))
	if e.Message != "input.email is 1000000 characters long; email addresses are limited to 254 characters" {
		t.Errorf("message: %q", e.Message)
	}
}

func TestInput_IDsAreNeverEmpty(t *testing.T) {
	e := refusedAt(t, Config{}, "length", "input.accountId", save, role("accountId", ""))
	if num(e.Extensions["actual"]) != 0 {
		t.Errorf("%+v", e)
	}
	refusedAt(t, Config{}, "length", "ids[1]", `query($ids: [ID!]) { things(ids: $ids) }`, map[string]any{"ids": []string{"a", ""}})
	// Empty strings elsewhere are the commands' to judge.
	passes(t, newServerOn(inputSchema, Config{}), save, role("description", ""))
}

func TestInput_WhereFiltersHaveTheirFieldsLimits(t *testing.T) {
	const q = `query($w: ThingWhereInput) { things(where: $w) }`
	refusedAt(t, Config{}, "length", "where.nameContains", q, map[string]any{"w": map[string]any{"nameContains": strings.Repeat("n", MaxNameLength+1)}})
	passes(t, newServerOn(inputSchema, Config{}), q, map[string]any{"w": map[string]any{"descriptionHasPrefix": strings.Repeat("d", MaxDescriptionLength)}})
	refusedAt(t, Config{}, "length", "where.actorIDIn[0]", q, map[string]any{"w": map[string]any{"actorIDIn": []string{strings.Repeat("i", MaxIDLength+1)}}})
	refusedAt(t, Config{}, "length", "after", `query($c: Cursor) { things(after: $c) }`, map[string]any{"c": strings.Repeat("c", MaxCursorLength+1)})
}

func TestInput_ControlCharactersAndInvalidUTF8(t *testing.T) {
	h := newServerOn(inputSchema, Config{})
	for _, bad := range []string{"a\x00b", "a\nb", "a\tb", "\x1b[31m", "a\x7fb", "a\u0085b", "bad\ufffdutf"} {
		refusedAt(t, Config{}, "characters", "input.name", save, role("name", bad))
	}
	// Descriptions and reasons allow newlines and tabs, nothing else.
	passes(t, h, save, role("description", "line 1\r\nline 2\tend", "reason", "because\n"))
	refusedAt(t, Config{}, "characters", "input.description", save, role("description", "a\x00b"))
	refusedAt(t, Config{}, "characters", "input.reason", save, role("reason", "a\x07b"))
	// Literals in the document are checked like variables, fragments too.
	refusedAt(t, Config{}, "characters", "input.name", `mutation { save(input: {accountId: "acc_1", name: "a\u0000b"}) }`, nil)
	refusedAt(t, Config{}, "characters", "where.nameContains",
		`query { ...F } fragment F on Query { things(where: {nameContains: "x\u0001"}) }`, nil)
	// Letters of every script are fine.
	passes(t, h, save, role("name", "Administración 管理者 🙂"))
}

func TestInput_ListsAndNesting(t *testing.T) {
	refusedAt(t, Config{}, "items", "input.grants", save, role("grants", strs(1001, "k")))
	passes(t, newServerOn(inputSchema, Config{}), save, role("grants", strs(1000, "k")))
	e := refusedAt(t, Config{MaxInputItems: 3}, "items", "input.grants", save, role("grants", strs(4, "k")))
	if num(e.Extensions["max"]) != 3 || num(e.Extensions["actual"]) != 4 {
		t.Errorf("%+v", e)
	}
	var w any = map[string]any{"nameContains": "x"}
	for range 10 {
		w = map[string]any{"and": []any{w}}
	}
	refusedAt(t, Config{}, "nesting", "where"+strings.Repeat(".and[0]", 10), `query($w: ThingWhereInput) { things(where: $w) }`, map[string]any{"w": w})
}

func TestInput_IntsAre32Bit(t *testing.T) {
	h := newServerOn(inputSchema, Config{})
	passes(t, h, save, role("version", -2147483648))
	passes(t, h, save, role("version", 2147483647))
	for _, v := range []any{2147483648, int64(9223372036854775807), -2147483649} {
		refusedAt(t, Config{}, "range", "input.version", save, role("version", v))
	}
	refusedAt(t, Config{}, "range", "input.version", `mutation { save(input: {accountId: "a", version: 3000000000}) }`, nil)
}

func TestInput_MapDocuments(t *testing.T) {
	h := newServerOn(inputSchema, Config{})
	doc := map[string]any{"roles": []any{map[string]any{"key": "r", "name": "R", "description": "multi\nline", "grants": []string{"a.*"}}}}
	passes(t, h, save, role("document", doc))
	refusedAt(t, Config{}, "type", "input.document", save, role("document", "not an object"))
	refusedAt(t, Config{}, "type", "input.expiresAt", save, role("expiresAt", 5))
	bad := []struct {
		limit, field string
		doc          map[string]any
	}{
		{"length", "input.document.roles[0].grants[0]", map[string]any{"roles": []any{map[string]any{"grants": []string{strings.Repeat("g", MaxKeyLength+1)}}}}},
		{"length", "input.document.roles[0].description", map[string]any{"roles": []any{map[string]any{"description": strings.Repeat("d", MaxDescriptionLength+1)}}}},
		{"characters", "input.document.members[0].email", map[string]any{"members": []any{map[string]any{"email": "a\x00@b.test"}}}},
		{"items", "input.document.roles", map[string]any{"roles": make([]any, 1001)}},
		{"length", "input.document (a key)", map[string]any{strings.Repeat("k", MaxKeyLength+1): 1}},
		{"characters", "input.document (a key)", map[string]any{"a\nb": "x"}},
		{"characters", `input.document["a b"]`, map[string]any{"a b": "a\x00"}},
		{"nesting", "input.document" + strings.Repeat(".x", 9), nest(10)},
	}
	for _, c := range bad {
		refusedAt(t, Config{}, c.limit, c.field, save, role("document", c.doc))
	}
}

// nest is a JSON object n levels deep.
func nest(n int) map[string]any {
	m := map[string]any{"leaf": true}
	for range n - 1 {
		m = map[string]any{"x": m}
	}
	return m
}

func TestInput_ErrorsNameThePlaceNotTheValue(t *testing.T) {
	e := refusedAt(t, Config{}, "characters", "input.name", save, role("name", "secret\x00value"))
	if strings.Contains(e.Message, "secret") || fmt.Sprint(e.Extensions) != "map[code:BAD_USER_INPUT field:input.name limit:characters]" {
		t.Fatalf("%+v", e)
	}
	// The error's path is the field's, by its alias.
	if fmt.Sprint(e.Path) != "[saved]" {
		t.Fatalf("path: %v", e.Path)
	}
}
