package apitest

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// schemaDocsQuery is the part of the standard introspection query that
// carries descriptions: every type with its fields, their arguments, input
// fields and enum values, deprecated ones included.
const schemaDocsQuery = `{
  __schema {
    types {
      kind name description
      fields(includeDeprecated: true) {
        name description
        args { name description }
      }
      inputFields { name description }
      enumValues(includeDeprecated: true) { name description }
    }
  }
}`

// builtinScalars are GraphQL's own scalars, described by the spec.
var builtinScalars = map[string]bool{"String": true, "Int": true, "Boolean": true, "ID": true, "Float": true}

// exempt lists the only schema elements that may lack a description, keyed
// "Type.member" ("Type" alone for the type itself). A key starting with "*"
// matches every type whose name ends with the rest; a member "*" matches
// every field, argument, input field and enum value of the type. Each entry
// must still match something, so a stale one fails the test.
var exempt = map[string]string{
	// Plumbing entgql generates without descriptions, which an ent schema
	// cannot give: the predicates of its filters (the `where:` arguments:
	// id, idNEQ, nameContainsFold, ...) and the values of its order fields
	// (CREATED_AT, NAME, ...). The types themselves are described, and so
	// are its connections, edges, orders, PageInfo, Cursor and Time.
	"*WhereInput.*": "entgql filter predicates",
	"*OrderField.*": "entgql order fields",
}

// exemption returns the key of exempt that covers member of typ (member ""
// for the type itself), or "".
func exemption(typ, member string) string {
	for key := range exempt {
		t, m, _ := strings.Cut(key, ".")
		if t != typ && !(strings.HasPrefix(t, "*") && strings.HasSuffix(typ, t[1:])) {
			continue
		}
		if m == member || m == "*" && member != "" {
			return key
		}
	}
	return ""
}

// GraphiQL is Gatehouse's manual: every type, field, argument, input field
// and enum value a user sees carries a description.
func TestSchemaIsDocumented(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{})
	// Introspection answers without credentials (P4).
	r := e.gql("", schemaDocsQuery, nil)
	if r.Status != http.StatusOK || r.Get("errors").Exists() {
		t.Fatalf("introspection: %s", r)
	}
	types := r.Get("data.__schema.types").Array()
	if len(types) == 0 {
		t.Fatalf("introspection returned no types: %s", r)
	}
	var missing []string
	used := map[string]bool{}
	check := func(what, typ, member, desc string) {
		if strings.TrimSpace(desc) != "" {
			return
		}
		if key := exemption(typ, member); key != "" {
			used[key] = true
			return
		}
		name := typ
		if member != "" {
			name += "." + member
		}
		missing = append(missing, what+" "+name)
	}
	for _, ty := range types {
		name := ty.Get("name").String()
		if strings.HasPrefix(name, "__") || builtinScalars[name] {
			continue
		}
		check("type", name, "", ty.Get("description").String())
		for _, f := range ty.Get("fields").Array() {
			field := f.Get("name").String()
			check("field", name, field, f.Get("description").String())
			for _, a := range f.Get("args").Array() {
				check("argument", name, field+"("+a.Get("name").String()+":)", a.Get("description").String())
			}
		}
		for _, f := range ty.Get("inputFields").Array() {
			check("input field", name, f.Get("name").String(), f.Get("description").String())
		}
		for _, v := range ty.Get("enumValues").Array() {
			check("enum value", name, v.Get("name").String(), v.Get("description").String())
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Errorf("%d schema elements without a description (GraphiQL is the manual):\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
	var stale []string
	for key := range exempt {
		if !used[key] {
			stale = append(stale, key)
		}
	}
	if len(stale) > 0 {
		sort.Strings(stale)
		t.Errorf("exemptions that cover nothing any more; remove them from exempt:\n  %s", strings.Join(stale, "\n  "))
	}
}

// The scalars say what their values look like, and Time and Map name the
// specification of their format (@specifiedBy), for code generators.
func TestSchema_ScalarsAreDocumented(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{})
	for name, spec := range map[string]string{
		"Time": "https://datatracker.ietf.org/doc/html/rfc3339", "Map": "https://www.rfc-editor.org/rfc/rfc8259#section-4", "Cursor": "",
	} {
		r := e.ok("", `query($n: String!) { __type(name: $n) { kind description specifiedByURL } }`, map[string]any{"n": name})
		if r.Get("data.__type.kind").String() != "SCALAR" || len(r.Get("data.__type.description").String()) < 40 ||
			r.Get("data.__type.specifiedByURL").String() != spec {
			t.Errorf("%s: %s", name, r.Get("data.__type").Raw)
		}
	}
}
