package limits

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

var fuzzSchema = &graphql.ExecutableSchemaMock{SchemaFunc: func() *ast.Schema { return schema }}

// prepare runs query through what the server runs before execution: the
// limits' parameter check, gqlgen's parse with the token limit, validation,
// variable coercion, then the limits' operation check.
func prepare(cfg Config, query string, vars map[string]any) (*graphql.OperationContext, gqlerror.List) {
	exec := executor.New(fuzzSchema)
	exec.Use(New(cfg))
	exec.SetParserTokenLimit(cfg.withDefaults().Tokens)
	return exec.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: query, Variables: vars})
}

// unbounded is a configuration under which only page sizes can be refused.
func unbounded() Config {
	return Config{MaxDepth: ceiling, MaxAliases: ceiling, MaxComplexity: ceiling, MaxFields: ceiling}
}

func fuzzSeeds() []string {
	return []string{
		`{ item { id } }`, deep(12), deep(13),
		`{ a: item { b: id c: name } item { id } }`,
		`{ items(first: 10) { edges { node { id items(last: 5) { totalCount } } } pageInfo { hasNextPage } } }`,
		`{ items { totalCount } pagedItems { totalCount } list(first: 3) { id } }`,
		`{ items(first: -1) { totalCount } }`, `{ items(first: 101) { totalCount } }`,
		`{ items(first: 99999999999999999999999) { totalCount } }`,
		`query($n: Int) { items(first: $n) { edges { node { id } } } }`,
		`query($n: Int = 7) { items(last: $n, first: 3) { totalCount } }`,
		`{ node(id: "1") { id ... on Item { name child { id } } } }`,
		`{ __typename item { __typename x: __typename child { id } } }`,
		`{ __schema { types { name fields { name type { name ofType { name } } } } } }`,
		`query { item { ...F } } fragment F on Item { id child { ...G } } fragment G on Item { id a: name }`,
		`fragment F on Item { id } { item { ...F ...F } }`,
		`mutation { touch(first: 2) { totalCount } }`,
		`{ item { id } } { item { name } }`, `query A { item { id } } query B { item { name } }`,
		`{`, `{ item { id }`, `{ item(first: 1) { id } }`, `{ nope }`, ``, `#`, `{ item { ...Missing } }`,
		`fragment F on Item { ...F } { item { ...F } }`,
		// A short document whose spreads expand to 1,001 fields: the field
		// threshold failed on it, since the field count skipped documents
		// shorter than two bytes per allowed field.
		`fragment F0 on Item { id id id id id id id id id id }
fragment F1 on Item { ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 }
fragment F2 on Item { ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 }
{ item { ...F2 } }`,
	}
}

// FuzzLimits sends arbitrary documents (and variables) through the server's
// checks. Nothing panics; every refusal is one of the limits, over its
// maximum. For a document that validates, each measure is a threshold: the
// document passes with the limit set to its measure and is refused, with
// that measure as `actual`, one below — so passing with N implies passing
// with N+1. Fields are counted independently (fragments expanded), and for
// documents without fragment spreads depth and aliases are computed
// independently on the AST.
func FuzzLimits(f *testing.F) {
	for _, q := range fuzzSeeds() {
		f.Add(q, ``)
	}
	f.Add(`query($n: Int) { items(first: $n) { edges { node { id } } } }`, `{"n": 5}`)
	f.Add(`query($n: Int) { items(first: $n) { edges { node { id } } } }`, `{"n": 500}`)
	f.Add(`query($n: Int) { items(first: $n) { totalCount } }`, `{"n": 1.5}`)
	f.Add(`query($n: Int!) { items(first: $n) { totalCount } }`, `{"n": "x"}`)
	f.Fuzz(func(t *testing.T, query, variables string) {
		var vars map[string]any
		if variables != "" {
			dec := json.NewDecoder(strings.NewReader(variables))
			dec.UseNumber() // as gqlgen's transports decode them
			if dec.Decode(&vars) != nil {
				return
			}
		}
		rc, errs := prepare(unbounded(), query, vars)
		for _, e := range errs {
			if limit, ok := e.Extensions["limit"]; ok {
				if name, _ := limit.(string); inputLimits[name] && e.Extensions["code"] == "BAD_USER_INPUT" && e.Extensions["field"] != "" {
					continue // a value over an input limit (ids of 1–128 characters, Ints of 32 bits, …), which no configuration lifts: inputs_test.go
				}
				checkRefusal(t, query, e, "pageSize")
				if limit != "pageSize" {
					t.Fatalf("%q refused on %v under unbounded limits", query, limit)
				}
			}
		}
		if len(errs) > 0 {
			return
		}
		m, err := New(unbounded()).(*limiter).measure(rc)
		if err != nil {
			t.Fatalf("%q passed, but its measure has a page-size refusal: %v", query, err)
		}
		fields := refFields(rc.Doc)
		for _, c := range []struct {
			limit string
			value int
			set   func(*Config, int)
		}{
			{"depth", m.depth, func(c *Config, n int) { c.MaxDepth = n }},
			{"aliases", m.aliases, func(c *Config, n int) { c.MaxAliases = n }},
			{"complexity", m.cost, func(c *Config, n int) { c.MaxComplexity = n }},
			{"fields", fields, func(c *Config, n int) { c.MaxFields = n }},
		} {
			if c.limit == "fields" && fields == fieldsCap {
				continue // beyond what refFields counts
			}
			cfg := unbounded()
			c.set(&cfg, max(c.value, 1)) // a limit of 0 means the default
			if _, errs := prepare(cfg, query, vars); len(errs) > 0 {
				t.Fatalf("%q measures %s %d, but a limit of %d refuses it: %v", query, c.limit, c.value, max(c.value, 1), errs)
			}
			if c.value < 2 {
				continue
			}
			c.set(&cfg, c.value-1)
			_, errs := prepare(cfg, query, vars)
			if len(errs) != 1 {
				t.Fatalf("%q measures %s %d, but a limit of %d gives %v", query, c.limit, c.value, c.value-1, errs)
			}
			checkRefusal(t, query, errs[0], c.limit)
			if got := errs[0].Extensions["actual"]; c.limit != "fields" && got != c.value {
				t.Fatalf("%q measures %s %d, but its refusal says %v", query, c.limit, c.value, got)
			}
		}
		if !hasSpreads(rc.Doc) {
			if d := refDepth(rc.Operation.SelectionSet); d != m.depth {
				t.Fatalf("%q: depth %d, reference %d", query, m.depth, d)
			}
			if a := refAliases(rc.Operation.SelectionSet); a != m.aliases {
				t.Fatalf("%q: aliases %d, reference %d", query, m.aliases, a)
			}
		}
	})
}

// checkRefusal checks that e is a well-formed refusal on limit.
func checkRefusal(t *testing.T, query string, e *gqlerror.Error, limit string) {
	t.Helper()
	ext := e.Extensions
	mx, _ := ext["max"].(int)
	actual, _ := ext["actual"].(int)
	if ext["code"] != "BAD_USER_INPUT" || ext["limit"] != limit {
		t.Fatalf("%q: refusal %v, want BAD_USER_INPUT on %s", query, ext, limit)
	}
	if actual <= mx && actual >= 0 {
		t.Fatalf("%q: refused on %s with actual %d within max %d", query, limit, actual, mx)
	}
}

// inputLimits are the limits on argument values (inputs.go), which refuse
// whatever the operation limits are.
var inputLimits = map[string]bool{"length": true, "characters": true, "items": true, "nesting": true, "type": true, "range": true}

// fieldsCap is where refFields stops counting.
const fieldsCap = 1 << 20

// refFields counts the field selections of a validated document (so
// fragments exist and do not cycle), spreads expanded, every fragment
// counted at least once.
func refFields(doc *ast.QueryDocument) int {
	const cap = fieldsCap
	memo := map[string]int{}
	var count func(ast.SelectionSet) int
	count = func(set ast.SelectionSet) int {
		n := 0
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				n += 1 + count(s.SelectionSet)
			case *ast.InlineFragment:
				n += count(s.SelectionSet)
			case *ast.FragmentSpread:
				if _, ok := memo[s.Name]; !ok {
					memo[s.Name] = count(doc.Fragments.ForName(s.Name).SelectionSet)
				}
				n += memo[s.Name]
			}
			n = min(n, cap)
		}
		return n
	}
	n := 0
	for _, op := range doc.Operations {
		n = min(n+count(op.SelectionSet), cap)
	}
	for _, f := range doc.Fragments {
		if _, spread := memo[f.Name]; !spread {
			n = min(n+count(f.SelectionSet), cap)
		}
	}
	return n
}

func hasSpreads(doc *ast.QueryDocument) bool {
	found := len(doc.Fragments) > 0
	for _, op := range doc.Operations {
		walkSelections(op.SelectionSet, func(sel ast.Selection) {
			_, spread := sel.(*ast.FragmentSpread)
			found = found || spread
		})
	}
	return found
}

func walkSelections(set ast.SelectionSet, fn func(ast.Selection)) {
	for _, sel := range set {
		fn(sel)
		switch s := sel.(type) {
		case *ast.Field:
			walkSelections(s.SelectionSet, fn)
		case *ast.InlineFragment:
			walkSelections(s.SelectionSet, fn)
		}
	}
}

// refDepth is the number of nested field levels, inline fragments adding
// none, introspection fields (and what is under them) counting nothing.
func refDepth(set ast.SelectionSet) int {
	d := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !strings.HasPrefix(s.Name, "__") {
				d = max(d, 1+refDepth(s.SelectionSet))
			}
		case *ast.InlineFragment:
			d = max(d, refDepth(s.SelectionSet))
		}
	}
	return d
}

// refAliases counts fields whose alias differs from their name, outside
// introspection.
func refAliases(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			if s.Alias != s.Name {
				n++
			}
			n += refAliases(s.SelectionSet)
		case *ast.InlineFragment:
			n += refAliases(s.SelectionSet)
		}
	}
	return n
}
