package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// The hostile-input sweep: every field with arguments (every mutation, and
// the queries that take input) is called by each kind of principal with
// hostile values in every place of its arguments: empty values, 1 MB
// strings, NUL, invalid UTF-8, control characters, 10,000-item lists,
// unknown enum values, numbers beyond Int, values of the wrong type. Every
// answer must be a success (only for empty values) or a refusal with a
// caller's code — never INTERNAL, never a panic or an error in the server's
// log, never an error of more than a few KB or one naming Go types — and
// SQLite and PostgreSQL must answer alike, request by request.

// allowedCodes are the answers to a caller's mistake.
var allowedCodes = map[string]bool{
	"BAD_USER_INPUT": true, "FORBIDDEN": true, "NOT_FOUND": true, "CONFLICT": true, "UNAUTHENTICATED": true,
}

// goTypes are signs of a message naming Go types or decoders.
var goTypes = regexp.MustCompile(`interface ?\{\}|map\[|\[\]string|\[\]interface|Go (value|struct)|json: |\bent\.|graphql\.|\bint64\b|\bfloat64\b|unmarshal`)

// invalidUTF8 stands for bytes that are not UTF-8, and loneSurrogate for
// the JSON escape \ud800, which no Unicode character has: JSON encoders
// cannot write either, so the request body is patched after encoding.
const (
	invalidUTF8   = "\ue000INVALID-UTF8\ue000"
	loneSurrogate = "\ue000LONE-SURROGATE\ue000"
)

// hostileClass is one kind of hostile value; value returns the value for a
// place of type t, or false when the class does not apply there.
type hostileClass struct {
	name  string
	value func(s *apiSchema, t typeRef) (any, bool)
	// empty values may be valid; every other class must be refused.
	mayPass bool
}

// kindOf is what a place holds: "list", "input", "enum", "Map", "Int",
// "Boolean", "Float", or "string" (String, ID, Time, Cursor).
func kindOf(s *apiSchema, t typeRef) string {
	u := t.unwrapped()
	if u.Kind == "LIST" {
		return "list"
	}
	switch def := s.Types[u.Name]; {
	case def.Kind == "INPUT_OBJECT":
		return "input"
	case def.Kind == "ENUM":
		return "enum"
	case u.Name == "Map", u.Name == "Int", u.Name == "Boolean", u.Name == "Float":
		return u.Name
	}
	return "string"
}

// inDocument puts a hostile string where applyAccessConfig's document
// holds strings.
func inDocument(v any) map[string]any {
	return map[string]any{"roles": []any{map[string]any{"key": "sweep", "name": v, "description": v, "grants": []any{v}}}}
}

func stringClass(name string, v string) hostileClass {
	return hostileClass{name: name, value: func(s *apiSchema, t typeRef) (any, bool) {
		switch kindOf(s, t) {
		case "string":
			return v, true
		case "Map":
			return inDocument(v), true
		}
		return nil, false
	}}
}

var hostileClasses = []hostileClass{
	{name: "empty", mayPass: true, value: func(s *apiSchema, t typeRef) (any, bool) {
		switch kindOf(s, t) {
		case "string":
			return "", true
		case "list":
			return []any{}, true
		case "Map", "input":
			return map[string]any{}, true
		}
		return nil, false
	}},
	stringClass("1 MB", strings.Repeat("x", 1_000_000)),
	stringClass("NUL", "a\x00b"),
	stringClass("invalid UTF-8", invalidUTF8),
	stringClass("control characters", "a\x01\x1b[2J\x7f\u0085b"),
	{name: "10,000 items", value: func(s *apiSchema, t typeRef) (any, bool) {
		switch kindOf(s, t) {
		case "list":
			item := s.value(*t.unwrapped().OfType, "", "", func(typeRef, string, string) any { return nil }, nil, false, nil, nil, 2)
			return repeat(item, 10_000), true
		case "Map":
			return map[string]any{"roles": repeat(map[string]any{"key": "k"}, 10_000)}, true
		}
		return nil, false
	}},
	{name: "unknown enum value", value: func(s *apiSchema, t typeRef) (any, bool) {
		return "NOT_A_VALUE_" + strings.Repeat("Z", 300), kindOf(s, t) == "enum"
	}},
	{name: "huge number", value: func(s *apiSchema, t typeRef) (any, bool) {
		switch {
		case kindOf(s, t) == "Int":
			return json.Number("9223372036854775807"), true
		case t.named().Name == "Time":
			return "99999-12-31T23:59:59Z", true
		}
		return nil, false
	}},
	{name: "wrong type", value: func(s *apiSchema, t typeRef) (any, bool) {
		switch kindOf(s, t) {
		case "string", "enum":
			return map[string]any{"not": "a string"}, true
		case "list", "Int", "Boolean", "Float":
			return map[string]any{"not": "a " + kindOf(s, t)}, true
		case "Map", "input":
			return "not an object", true
		}
		return nil, false
	}},
}

func repeat(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// hostileArgs builds c's arguments in w (on e) with v at p: required fields
// get plain values, A's objects and the role's current version, so that a
// hostile value is the only thing wrong; a dry run is asked for where there
// is one.
func (w *sweepWorld) hostileArgs(e *env, s *apiSchema, c call, p position, v any) map[string]any {
	fill := func(t typeRef, _, name string) any {
		switch {
		case t.Name == "ID":
			return w.baseID(name, idKinds[name])
		case name == "expectedVersion":
			return e.ok(e.Operator, `query($id: ID!) { node(id: $id) { ... on Role { version } } }`, map[string]any{"id": w.A.victim}).
				Get("data.node.version").Int()
		case name == "slug":
			return "sweep-account"
		}
		return nil
	}
	dry := func(typ string, obj map[string]any) {
		if _, set := obj["dryRun"]; !set && s.hasField(typ, "dryRun") {
			obj["dryRun"] = true // the sweep probes inputs; an applied empty document would empty the account
		}
	}
	return s.build(c, fill, &p, v, dry)
}

// hostileRun is one request of the sweep.
type hostileRun struct {
	c     call
	p     position
	class hostileClass
	who   int // index of the principal
}

// hostilePlan lists the sweep's requests. For each field and class, every
// principal asks at least once, and mutations meet the class in every place
// it applies to; queries with many places (where-inputs) meet it in 12,
// different for each class, and then each place no class met yet meets one
// that applies.
func hostilePlan(s *apiSchema, principals int) (runs []hostileRun, fields int) {
	for _, c := range s.calls() {
		places := s.positions(c, func(typeRef) bool { return true })
		fields++
		met := map[string]bool{}
		add := func(p position, class hostileClass, who int) {
			runs = append(runs, hostileRun{c: c, p: p, class: class, who: who % principals})
			met[p.String()] = true
		}
		for k, class := range hostileClasses {
			var ps []position
			for _, p := range places {
				if _, ok := class.value(s, p.t); ok {
					ps = append(ps, p)
				}
			}
			if len(ps) == 0 {
				continue
			}
			n, offset := len(ps), 0
			if c.op == "query" && n > 12 {
				n, offset = 12, k*12
			}
			for i := range max(n, principals) {
				add(ps[(offset+i)%len(ps)], class, i)
			}
		}
		for i, p := range places {
			for _, class := range hostileClasses {
				if _, ok := class.value(s, p.t); ok && !met[p.String()] {
					add(p, class, i)
				}
			}
		}
	}
	return runs, fields
}

// rawGQL posts query with vars, patching invalidUTF8 and loneSurrogate in.
func (e *env) rawGQL(cred, query string, vars map[string]any) resp {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		e.t.Fatal(err)
	}
	body = bytes.ReplaceAll(body, []byte(invalidUTF8), []byte("bad\xff\xfeutf"))
	return e.post(cred, "application/json", bytes.ReplaceAll(body, []byte(loneSurrogate), []byte(`\ud800`)))
}

var (
	anyID   = regexp.MustCompile(`\b(acc|role|mem|scp|key|sod|evt|usr|perm|opk|asg|use|ckp)_[0-9A-HJKMNP-TV-Z]{26}\b`)
	anyTime = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
)

// normalized is an answer with ids and times replaced, to compare answers
// of two databases.
func normalized(r resp) string {
	b := anyID.ReplaceAllString(string(r.Body), "${1}_<id>")
	return fmt.Sprintf("HTTP %d %s", r.Status, anyTime.ReplaceAllString(b, "<time>"))
}

// checkHostile fails t for an answer a caller's mistake must never get.
func checkHostile(t *testing.T, what string, class hostileClass, r resp) {
	t.Helper()
	if r.Status >= 500 {
		t.Errorf("%s: %s", what, r)
		return
	}
	errs := r.Get("errors").Array()
	if len(errs) == 0 && !class.mayPass {
		t.Errorf("%s: accepted: %.300s", what, r.Body)
	}
	for _, e := range errs {
		code := e.Get("extensions.code").String()
		if !allowedCodes[code] {
			t.Errorf("%s: code %q: %.500s", what, code, e.Raw)
		}
		if len(e.Raw) > 4096 {
			t.Errorf("%s: an error of %d bytes: %.300s…", what, len(e.Raw), e.Raw)
		}
		if m := e.Get("message").String(); goTypes.MatchString(m) {
			t.Errorf("%s: the message names Go types: %.300s", what, m)
		}
	}
}

func TestInput_HostileValuesSweep(t *testing.T) {
	envs := []*env{newEnv(t, dialect.SQLite, server.Config{})}
	if postgresURL() != "" {
		envs = append(envs, newEnv(t, dialect.Postgres, server.Config{}))
	} else {
		t.Log("PostgreSQL suite off: SQLite only, no comparison")
	}
	worlds := make([]*sweepWorld, len(envs))
	var wg sync.WaitGroup
	for i, e := range envs {
		wg.Go(func() { worlds[i] = e.newSweepWorld("hostile") })
	}
	wg.Wait()
	s := envs[0].introspect()
	runs, fields := hostilePlan(s, len(worlds[0].principals))
	for _, run := range runs {
		answers := make([]resp, len(envs))
		for i, e := range envs {
			wg.Go(func() {
				w := worlds[i]
				v, _ := run.class.value(s, run.p.t)
				answers[i] = e.rawGQL(w.principals[run.who].cred, run.c.document(s), w.hostileArgs(e, s, run.c, run.p, v))
			})
		}
		wg.Wait()
		what := fmt.Sprintf("%s(%s = %s) by %s", run.c, run.p, run.class.name, worlds[0].principals[run.who].name)
		for _, a := range answers {
			checkHostile(t, what, run.class, a)
		}
		if len(answers) == 2 {
			if a, b := normalized(answers[0]), normalized(answers[1]); a != b {
				t.Errorf("%s: the databases answer differently\n sqlite   %.600s\n postgres %.600s", what, a, b)
			}
		}
	}
	for _, e := range envs {
		e.serverErrors(t)
	}
	places := map[string]bool{}
	for _, run := range runs {
		places[run.c.String()+" "+run.p.String()] = true
	}
	t.Logf("%d fields (%d argument places) × %d principals × %d classes of hostile values: %d requests per database",
		fields, len(places), len(worlds[0].principals), len(hostileClasses), len(runs))
}
