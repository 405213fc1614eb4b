package apitest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The sweeps (sweep_ids_test.go, sweep_hostile_test.go) are generated from
// the schema as a client sees it: introspection over HTTP. A field, argument
// or input field added to the schema joins them without a test edit, and one
// the sweeps cannot handle (an id of an unknown kind) fails them.

// typeRef is an introspected type reference.
type typeRef struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	OfType *typeRef `json:"ofType"`
}

// String renders the reference as in a variable definition: [ID!]!.
func (t typeRef) String() string {
	switch t.Kind {
	case "NON_NULL":
		return t.OfType.String() + "!"
	case "LIST":
		return "[" + t.OfType.String() + "]"
	}
	return t.Name
}

// named is the type under the wrappers.
func (t typeRef) named() typeRef {
	for t.OfType != nil {
		t = *t.OfType
	}
	return t
}

func (t typeRef) nonNull() bool { return t.Kind == "NON_NULL" }

// unwrapped is t without its NON_NULL wrapper.
func (t typeRef) unwrapped() typeRef {
	if t.Kind == "NON_NULL" {
		return *t.OfType
	}
	return t
}

type inputValue struct {
	Name         string  `json:"name"`
	Type         typeRef `json:"type"`
	DefaultValue *string `json:"defaultValue"`
}

type fieldDef struct {
	Name string       `json:"name"`
	Args []inputValue `json:"args"`
	Type typeRef      `json:"type"`
}

type typeDef struct {
	Kind        string       `json:"kind"`
	Name        string       `json:"name"`
	Fields      []fieldDef   `json:"fields"`
	InputFields []inputValue `json:"inputFields"`
	EnumValues  []struct {
		Name string `json:"name"`
	} `json:"enumValues"`
}

// apiSchema is the introspected schema.
type apiSchema struct {
	Query, Mutation string
	Types           map[string]*typeDef
}

const introspection = `{ __schema { queryType { name } mutationType { name }
  types { kind name
    fields { name args { name defaultValue type { ...T } } type { ...T } }
    inputFields { name defaultValue type { ...T } }
    enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`

// introspect reads the schema over HTTP, as any client would.
func (e *env) introspect() *apiSchema {
	e.t.Helper()
	r := e.ok("", introspection, nil)
	var types []*typeDef
	if err := json.Unmarshal([]byte(r.Get("data.__schema.types").Raw), &types); err != nil {
		e.t.Fatal(err)
	}
	s := &apiSchema{Query: r.Get("data.__schema.queryType.name").String(), Mutation: r.Get("data.__schema.mutationType.name").String(),
		Types: map[string]*typeDef{}}
	for _, t := range types {
		s.Types[t.Name] = t
	}
	return s
}

// call is a field the sweeps call: a root field, or a field of an object a
// root field without arguments leads to (viewer { can(…) }).
type call struct {
	op    string   // "query" or "mutation"
	path  []string // e.g. ["createRole"], ["viewer", "can"]
	field fieldDef
}

func (c call) String() string { return strings.Join(c.path, ".") }

// calls lists every field with arguments the sweeps reach, mutations first.
func (s *apiSchema) calls() []call {
	var out []call
	for _, root := range []struct{ op, name string }{{"mutation", s.Mutation}, {"query", s.Query}} {
		for _, f := range s.Types[root.name].Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			if len(f.Args) > 0 {
				out = append(out, call{op: root.op, path: []string{f.Name}, field: f})
				continue
			}
			if t := s.Types[f.Type.named().Name]; t != nil && t.Kind == "OBJECT" {
				for _, sub := range t.Fields {
					if len(sub.Args) > 0 {
						out = append(out, call{op: root.op, path: []string{f.Name, sub.Name}, field: sub})
					}
				}
			}
		}
	}
	return out
}

// document is the operation calling c with every argument as a variable of
// the argument's name, selecting only __typename from what it returns.
func (c call) document(s *apiSchema) string {
	var defs, args []string
	for _, a := range c.field.Args {
		defs = append(defs, fmt.Sprintf("$%s: %s", a.Name, a.Type))
		args = append(args, fmt.Sprintf("%s: $%s", a.Name, a.Name))
	}
	sel := ""
	if k := s.Types[c.field.Type.named().Name].Kind; k == "OBJECT" || k == "INTERFACE" || k == "UNION" {
		sel = " { __typename }"
	}
	inner := fmt.Sprintf("%s(%s)%s", c.path[len(c.path)-1], strings.Join(args, ", "), sel)
	for i := len(c.path) - 2; i >= 0; i-- {
		inner = c.path[i] + " { " + inner + " }"
	}
	return fmt.Sprintf("%s(%s) { %s }", c.op, strings.Join(defs, ", "), inner)
}

// step is one step of a path into an argument value: an object key, or
// index 0 of a list.
type step struct {
	key  string // "" for a list's first item
	name string // the input field or argument the value belongs to
}

// position is a place in a call's arguments that a sweep puts a value in.
type position struct {
	steps  []step
	t      typeRef // the type of the value there
	parent string  // the input type holding it ("" for an argument)
}

func (p position) String() string {
	var b strings.Builder
	for _, s := range p.steps {
		if s.key == "" {
			b.WriteString("[0]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// name is the input field or argument the position's value is given as.
func (p position) name() string { return p.steps[len(p.steps)-1].name }

// positions lists every place in c's arguments, through input objects and
// the first item of lists, whose type satisfies keep. Input types already
// on the way (where-inputs' and/or) are not entered again.
func (s *apiSchema) positions(c call, keep func(t typeRef) bool) []position {
	var out []position
	var walk func(steps []step, t typeRef, parent string, seen map[string]bool)
	walk = func(steps []step, t typeRef, parent string, seen map[string]bool) {
		if keep(t) {
			out = append(out, position{steps: steps, t: t, parent: parent})
		}
		u := t.unwrapped()
		if u.Kind == "LIST" {
			walk(append(steps[:len(steps):len(steps)], step{name: steps[len(steps)-1].name}), *u.OfType, parent, seen)
			return
		}
		def := s.Types[u.Name]
		if def == nil || def.Kind != "INPUT_OBJECT" || seen[def.Name] {
			return
		}
		seen[def.Name] = true
		defer delete(seen, def.Name)
		for _, f := range def.InputFields {
			walk(append(steps[:len(steps):len(steps)], step{key: f.Name, name: f.Name}), f.Type, def.Name, seen)
		}
	}
	for _, a := range c.field.Args {
		walk([]step{{key: a.Name, name: a.Name}}, a.Type, "", map[string]bool{})
	}
	return out
}

// valueFor generates a value of type t given as field name; fill gives a
// value for a named scalar or enum, or nil to use the defaults.
type filler func(t typeRef, parent, name string) any

// build makes the arguments of c: every required argument and input field,
// and the value v at p (with the objects and lists on its way). extra may
// add optional input fields to an object of the base (it gets the object's
// type and the object, at depth 1 under an argument).
func (s *apiSchema) build(c call, fill filler, p *position, v any, extra func(typ string, obj map[string]any)) map[string]any {
	vars := map[string]any{}
	for _, a := range c.field.Args {
		var rest []step
		on := p != nil && p.steps[0].key == a.Name
		if on {
			rest = p.steps[1:]
		}
		if !a.Type.nonNull() && !on {
			continue
		}
		vars[a.Name] = s.value(a.Type, "", a.Name, fill, rest, on, v, extra, 1)
	}
	return vars
}

func (s *apiSchema) value(t typeRef, parent, name string, fill filler, rest []step, on bool, v any, extra func(string, map[string]any), depth int) any {
	if on && len(rest) == 0 {
		return v
	}
	u := t.unwrapped()
	if u.Kind == "LIST" {
		return []any{s.value(*u.OfType, parent, name, fill, restAfterIndex(rest, on), on, v, extra, depth)}
	}
	def := s.Types[u.Name]
	if def.Kind != "INPUT_OBJECT" {
		if x := fill(u, parent, name); x != nil {
			return x
		}
		return defaultScalar(s, u, name)
	}
	obj := map[string]any{}
	for _, f := range def.InputFields {
		onField := on && rest[0].key == f.Name
		if !onField && (!f.Type.nonNull() || f.DefaultValue != nil) {
			continue
		}
		var next []step
		if onField {
			next = rest[1:]
		}
		obj[f.Name] = s.value(f.Type, def.Name, f.Name, fill, next, onField, v, extra, depth+1)
	}
	if extra != nil && depth == 1 {
		extra(def.Name, obj)
	}
	return obj
}

// restAfterIndex drops the list step at the head of rest.
func restAfterIndex(rest []step, on bool) []step {
	if on && len(rest) > 0 && rest[0].key == "" {
		return rest[1:]
	}
	return rest
}

// defaultScalar is a plain valid-looking value of a scalar or enum.
func defaultScalar(s *apiSchema, t typeRef, name string) any {
	switch t.Name {
	case "Int":
		if name == "expectedVersion" {
			return 1
		}
		return 1
	case "Float":
		return 1.5
	case "Boolean":
		return false
	case "Map":
		return map[string]any{}
	case "Time":
		return "2100-01-01T00:00:00Z"
	}
	if def := s.Types[t.Name]; def != nil && def.Kind == "ENUM" {
		return def.EnumValues[0].Name
	}
	switch name {
	case "email":
		return "sweep@sweep.test"
	case "permission", "permissions", "grants", "implies", "key":
		return "AgentChat"
	}
	return "sweep"
}

// sweepState is everything of an account a sweep's refused requests could
// have touched: settings, features, roles, members, scopes, keys, rules, and
// the number of audit events (L1). Keys' lastUsedAt moves with use and is
// left out.
func (e *env) sweepState(accountID string) string {
	e.t.Helper()
	return e.coreState(accountID) + e.ok(e.Operator, `query($id: ID!) { account(id: $id) {
		scopes { totalCount edges { node { id key description grants } } }
		apiKeys { totalCount edges { node { id name status expiresAt } } }
		sodRules { id name permissions level mode }
		auditEvents { totalCount } } }`, map[string]any{"id": accountID}).Get("data.account").Raw
}

// serverErrors fails t when the server logged an error (an INTERNAL answer
// or a panic) since the last call.
func (e *env) serverErrors(t *testing.T) {
	t.Helper()
	for _, line := range e.logs.take() {
		t.Errorf("%s: the server logged an error: %s", e.Dialect, line)
	}
}
