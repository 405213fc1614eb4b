package limits

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

const sdl = `
type Query {
  item: Item
  node(id: ID!): Node
  items(first: Int, last: Int, after: String): ItemConnection!
  pagedItems(first: Int = 10): ItemConnection!
  list(first: Int): [Item!]!
}
type Mutation { touch(first: Int): ItemConnection! }
interface Node { id: ID! }
type Item implements Node {
  id: ID!
  name: String
  child: Item
  items(first: Int, last: Int): ItemConnection!
}
type ItemConnection { edges: [ItemEdge!]!  pageInfo: PageInfo!  totalCount: Int! }
type ItemEdge { node: Item!  cursor: String! }
type PageInfo { hasNextPage: Boolean!  endCursor: String }
`

var schema = gqlparser.MustLoadSchema(&ast.Source{Name: "test.graphql", Input: sdl})

// newServer is a gqlgen server over the test schema whose execution always
// answers {"ok":true}: whatever reaches execution passed the limits.
func newServer(cfg Config) http.Handler { return newServerOn(schema, cfg) }

// newServerOn is newServer over schema s.
func newServerOn(s *ast.Schema, cfg Config) http.Handler {
	srv := handler.New(&graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return s },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 0, false
		},
		ExecFunc: func(context.Context) graphql.ResponseHandler {
			return func(context.Context) *graphql.Response {
				return &graphql.Response{Data: json.RawMessage(`{"ok":true}`)}
			}
		},
	})
	srv.AddTransport(transport.POST{})
	srv.Use(extension.Introspection{})
	srv.Use(New(cfg))
	return srv
}

type gqlError struct {
	Message    string `json:"message"`
	Locations  []struct{ Line, Column int }
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type result struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

func run(t *testing.T, h http.Handler, query string, vars map[string]any) result {
	t.Helper()
	return runOp(t, h, query, "", vars)
}

func runOp(t *testing.T, h http.Handler, query, operation string, vars map[string]any) result {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "operationName": operation, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var r result
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	return r
}

func passes(t *testing.T, h http.Handler, query string, vars map[string]any) {
	t.Helper()
	if r := run(t, h, query, vars); len(r.Errors) > 0 || string(r.Data) != `{"ok":true}` {
		t.Fatalf("refused: %+v\nquery: %s", r.Errors, query)
	}
}

// refused asserts that query fails on limit alone and returns the error.
func refused(t *testing.T, h http.Handler, limit, query string, vars map[string]any) gqlError {
	t.Helper()
	r := run(t, h, query, vars)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["limit"] != limit {
		t.Fatalf("want one %q refusal, got %+v\nquery: %s", limit, r.Errors, query)
	}
	if string(r.Data) != "" && string(r.Data) != "null" {
		t.Fatalf("a refused query ran: %s", r.Data)
	}
	return r.Errors[0]
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// costOf measures query through the server: with a complexity limit of 1,
// every test query is refused and the error reports its cost.
func costOf(t *testing.T, query string, vars map[string]any) int {
	t.Helper()
	return num(refused(t, newServer(Config{MaxComplexity: 1}), "complexity", query, vars).Extensions["actual"])
}

// deep returns a query of depth d: item, d-2 levels of child, then id.
func deep(d int) string {
	return "{ item { " + strings.Repeat("child { ", d-2) + "id" + strings.Repeat(" }", d-1) + " }"
}

func TestDefaultIsTheSpecLimits(t *testing.T) {
	if got, want := Default(), (Config{MaxDepth: 12, MaxAliases: 30, MaxComplexity: 5000, MaxPageSize: 100, MaxFields: 1000, Tokens: 15000,
		MaxInputItems: 1000, MaxInputNesting: 10}); got != want {
		t.Fatalf("Default() = %+v, want %+v", got, want)
	}
	if got := (Config{MaxDepth: 3, MaxPageSize: -1}).withDefaults(); got != (Config{MaxDepth: 3, MaxAliases: 30, MaxComplexity: 5000, MaxPageSize: 100, MaxFields: 1000, Tokens: 15000,
		MaxInputItems: 1000, MaxInputNesting: 10}) {
		t.Fatalf("zero and negative fields should take the defaults: %+v", got)
	}
	if _, ok := New(Config{}).(graphql.OperationContextMutator); !ok {
		t.Fatal("the extension must be an OperationContextMutator")
	}
}

func TestDepth_AtTheDefaultLimitPassesOneMoreIsRefused(t *testing.T) {
	h := newServer(Config{})
	passes(t, h, deep(12), nil)
	e := refused(t, h, "depth", deep(13), nil)
	if num(e.Extensions["max"]) != 12 || num(e.Extensions["actual"]) != 13 {
		t.Fatalf("extensions: %v", e.Extensions)
	}
	if e.Message != "query depth 13 exceeds the limit of 12" {
		t.Fatalf("message: %q", e.Message)
	}
}

func TestDepth_ConfiguredLimitApplies(t *testing.T) {
	h := newServer(Config{MaxDepth: 4})
	passes(t, h, deep(4), nil)
	refused(t, h, "depth", deep(5), nil)
}

func TestDepth_FragmentsAddNoLevelOfTheirOwn(t *testing.T) {
	h := newServer(Config{MaxDepth: 4})
	// item > child > child > id through a named and an inline fragment: depth 4.
	q := `{ item { ...F } } fragment F on Item { child { ... on Item { child { id } } } }`
	passes(t, h, q, nil)
	q = `{ item { ...F } } fragment F on Item { child { ... on Item { child { child { id } } } } }`
	if e := refused(t, h, "depth", q, nil); num(e.Extensions["actual"]) != 5 {
		t.Fatalf("extensions: %v", e.Extensions)
	}
}

func TestDepth_TypenameDoesNotCount(t *testing.T) {
	h := newServer(Config{MaxDepth: 3})
	passes(t, h, `{ __typename item { __typename child { __typename id } } }`, nil)
}

func TestAliases_AtTheDefaultLimitPassesOneMoreIsRefused(t *testing.T) {
	h := newServer(Config{})
	aliases := func(n int) string {
		var b strings.Builder
		b.WriteString("{ ")
		for i := range n {
			fmt.Fprintf(&b, "a%d: item { id } ", i)
		}
		return b.String() + "}"
	}
	passes(t, h, aliases(30), nil)
	e := refused(t, h, "aliases", aliases(31), nil)
	if num(e.Extensions["max"]) != 30 || num(e.Extensions["actual"]) != 31 {
		t.Fatalf("extensions: %v", e.Extensions)
	}
	if !strings.Contains(e.Message, "31 aliases") || !strings.Contains(e.Message, "30") {
		t.Fatalf("message: %q", e.Message)
	}
}

func TestAliases_CountedEachTimeAFragmentIsSpread(t *testing.T) {
	h := newServer(Config{MaxAliases: 4})
	passes(t, h, `{ item { ...F child { ...F } } } fragment F on Item { a: id b: name }`, nil)
	e := refused(t, h, "aliases", `{ item { ...F child { ...F child { ...F } } } } fragment F on Item { a: id b: name }`, nil)
	if num(e.Extensions["actual"]) != 6 {
		t.Fatalf("extensions: %v", e.Extensions)
	}
}

func TestAliases_AFieldNamedAsItselfIsNotAnAlias(t *testing.T) {
	h := newServer(Config{MaxAliases: 1})
	passes(t, h, `{ item: item { id: id name: name } x: item { id } }`, nil)
}

func TestComplexity_AtTheDefaultLimitPassesOneMoreIsRefused(t *testing.T) {
	h := newServer(Config{})
	// items(first: 50) { 1 + 50 × edges(1 + node(1 + items(first: 32)(1 + 32 × (1 + (1 + 1))))) }
	// = 1 + 50 × 99 = 4951, plus list(first: n) { id } = 1 + n.
	q := func(n int) string {
		return fmt.Sprintf(`query($a: Int, $b: Int) {
			items(first: $a) { edges { node { items(first: $b) { edges { node { id } } } } } }
			list(first: %d) { id }
		}`, n)
	}
	vars := map[string]any{"a": 50, "b": 32}
	passes(t, h, q(48), vars)
	e := refused(t, h, "complexity", q(49), vars)
	if num(e.Extensions["max"]) != 5000 || num(e.Extensions["actual"]) != 5001 {
		t.Fatalf("extensions: %v", e.Extensions)
	}
	if !strings.HasPrefix(e.Message, "query complexity 5001 exceeds the limit of 5000") {
		t.Fatalf("message: %q", e.Message)
	}
}

func TestComplexity_ConnectionsCostTheirPageSizeTimesTheirFields(t *testing.T) {
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		want        int
	}{
		{"first multiplies", `{ items(first: 3) { totalCount } }`, nil, 1 + 3*1},
		{"last multiplies", `{ items(last: 7) { totalCount } }`, nil, 1 + 7*1},
		{"the larger of first and last", `{ items(first: 3, last: 7) { totalCount } }`, nil, 1 + 7*1},
		{"first: 0 fetches nothing", `{ items(first: 0) { edges { node { id } } } item { id } }`, nil, 1 + (1 + 1)},
		{"connection without first costs the page size", `{ items { totalCount } }`, nil, 1 + 100*1},
		{"explicit null first costs the page size", `{ items(first: null) { totalCount } }`, nil, 1 + 100*1},
		{"schema default first applies", `{ pagedItems { totalCount } }`, nil, 1 + 10*1},
		{"first from a variable", `query($n: Int) { items(first: $n) { totalCount } }`, map[string]any{"n": 9}, 1 + 9*1},
		{"unset variable costs the page size", `query($n: Int) { items(first: $n) { totalCount } }`, nil, 1 + 100*1},
		{"first on a plain list multiplies", `{ list(first: 5) { id name } }`, nil, 1 + 5*2},
		{"a plain list without first costs its fields once", `{ list { id name } }`, nil, 1 + 2},
		{"nested connections multiply", `{ items(first: 10) { edges { node { items(first: 20) { totalCount } } } } }`, nil,
			1 + 10*(1+(1+(1+20*1)))},
		{"each fragment spread counts", `{ item { ...F child { ...F } } } fragment F on Item { id name }`, nil,
			1 + (2 + (1 + 2))},
		{"inline fragments count", `{ node(id: "1") { ... on Item { id name } } }`, nil, 1 + 2},
		{"__typename is free", `{ item { __typename id } }`, nil, 1 + 1},
		{"mutations are measured too", `mutation { touch(first: 4) { totalCount } }`, nil, 1 + 4*1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := costOf(t, c.query, c.vars); got != c.want {
				t.Fatalf("cost %d, want %d", got, c.want)
			}
		})
	}
}

func TestComplexity_OnlyTheSelectedOperationIsMeasured(t *testing.T) {
	h := newServer(Config{MaxComplexity: 10})
	doc := `query Cheap { item { id } } query Costly { items { edges { node { id } } } }`
	if r := runOp(t, h, doc, "Cheap", nil); len(r.Errors) > 0 {
		t.Fatalf("Cheap refused: %+v", r.Errors)
	}
	if r := runOp(t, h, doc, "Costly", nil); len(r.Errors) != 1 || r.Errors[0].Extensions["limit"] != "complexity" {
		t.Fatalf("Costly: %+v", r.Errors)
	}
}

func TestPageSize_AtTheDefaultLimitPassesOneMoreIsRefused(t *testing.T) {
	h := newServer(Config{})
	passes(t, h, `{ items(first: 100) { totalCount } }`, nil)
	passes(t, h, `{ items(last: 100) { totalCount } }`, nil)
	passes(t, h, `{ items(first: 0) { totalCount } }`, nil)

	e := refused(t, h, "pageSize", `{ items(first: 101) { totalCount } }`, nil)
	if num(e.Extensions["max"]) != 100 || num(e.Extensions["actual"]) != 101 {
		t.Fatalf("extensions: %v", e.Extensions)
	}
	if e.Message != `first: 101 on field "items" exceeds the page size limit of 100` {
		t.Fatalf("message: %q", e.Message)
	}
	if len(e.Locations) != 1 || e.Locations[0].Line != 1 || e.Locations[0].Column != 3 {
		t.Fatalf("locations: %+v", e.Locations)
	}
	refused(t, h, "pageSize", `{ items(last: 101) { totalCount } }`, nil)
	refused(t, h, "pageSize", `{ list(first: 101) { id } }`, nil) // any field, not only connections
	refused(t, h, "pageSize", `{ item { items(first: 101) { totalCount } } }`, nil)
}

func TestPageSize_NegativeIsRefused(t *testing.T) {
	e := refused(t, newServer(Config{}), "pageSize", `{ items(first: -1) { totalCount } }`, nil)
	if num(e.Extensions["actual"]) != -1 || !strings.Contains(e.Message, "must not be negative") {
		t.Fatalf("%q %v", e.Message, e.Extensions)
	}
}

func TestPageSize_FromVariablesIsChecked(t *testing.T) {
	h := newServer(Config{})
	q := `query($n: Int!) { items(first: $n) { totalCount } }`
	passes(t, h, q, map[string]any{"n": 100})
	if e := refused(t, h, "pageSize", q, map[string]any{"n": 101}); num(e.Extensions["actual"]) != 101 {
		t.Fatalf("extensions: %v", e.Extensions)
	}
	refused(t, h, "pageSize", q, map[string]any{"n": -5})
}

func TestPageSize_ConfiguredLimitAlsoSetsTheCostOfAConnectionWithoutFirst(t *testing.T) {
	h := newServer(Config{MaxPageSize: 20, MaxComplexity: 21})
	passes(t, h, `{ items(first: 20) { totalCount } }`, nil)
	refused(t, h, "pageSize", `{ items(first: 21) { totalCount } }`, nil)
	passes(t, h, `{ items { totalCount } }`, nil) // 1 + 20
	refused(t, h, "complexity", `{ items { totalCount pageInfo { hasNextPage } } }`, nil)
}

func TestPageSize_IsReportedBeforeOtherLimits(t *testing.T) {
	h := newServer(Config{MaxDepth: 2})
	refused(t, h, "pageSize", `{ item { child { items(first: 1000) { totalCount } } } }`, nil)
}

func TestErrors_CarryBadUserInputAndTheLimit(t *testing.T) {
	h := newServer(Config{MaxDepth: 4, MaxAliases: 1, MaxComplexity: 40, MaxPageSize: 10})
	for _, c := range []struct {
		limit, query string
		max, actual  int
	}{
		{"depth", `{ item { child { child { child { id } } } } }`, 4, 5},
		{"aliases", `{ a: item { id } b: item { id } }`, 1, 2},
		{"complexity", `{ items(first: 10) { edges { node { id name } } } }`, 40, 1 + 10*(1+(1+2))},
		{"pageSize", `{ items(first: 11) { totalCount } }`, 10, 11},
	} {
		t.Run(c.limit, func(t *testing.T) {
			r := run(t, h, c.query, nil)
			if len(r.Errors) != 1 {
				t.Fatalf("errors: %+v", r.Errors)
			}
			ext := r.Errors[0].Extensions
			if ext["code"] != "BAD_USER_INPUT" || ext["limit"] != c.limit || num(ext["max"]) != c.max || num(ext["actual"]) != c.actual {
				t.Fatalf("extensions %v, want code BAD_USER_INPUT limit %s max %d actual %d", ext, c.limit, c.max, c.actual)
			}
			if !strings.Contains(r.Errors[0].Message, fmt.Sprint(c.actual)) || !strings.Contains(r.Errors[0].Message, fmt.Sprint(c.max)) {
				t.Fatalf("the message should say the actual and the limit: %q", r.Errors[0].Message)
			}
		})
	}
}

func TestIntrospection_GraphiQLsFullQueryPassesWithTheDefaults(t *testing.T) {
	h := newServer(Config{})
	passes(t, h, introspection.Query, nil)
	passes(t, h, introspection.NewQuery(introspection.QueryOptions{OneOf: true}), nil)
	// The query GraphiQL 4.1.2 sends on load (captured from the page in a
	// headless browser; graphql-js getIntrospectionQuery with inputValueDeprecation).
	passes(t, h, graphiqlIntrospectionQuery, nil)
	// Introspection costs nothing even next to other fields, and under tight limits.
	passes(t, newServer(Config{MaxDepth: 1, MaxComplexity: 1}), `{ __schema { types { name fields { name type { ofType { ofType { name } } } } } } __type(name: "Item") { name } item { __typename } }`, nil)
}

// Fragments that spread each other twice, 40 levels down, expand to 2^40
// fields; they must be measured (and refused) without walking that tree.
func TestFragments_RepeatedSpreadsAreMeasuredQuickly(t *testing.T) {
	var b strings.Builder
	b.WriteString("{ item { ...F0 } }\n")
	const n = 40
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Item { child { ...F%d } c%d: child { ...F%d } }\n", i, i+1, i, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Item { id }\n", n)
	doc, errs := parser.ParseQuery(&ast.Source{Input: b.String()})
	if errs != nil {
		t.Fatal(errs)
	}
	start := time.Now()
	err := New(Config{MaxDepth: 100}).(graphql.OperationContextMutator).MutateOperationContext(context.Background(),
		&graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]})
	if took := time.Since(start); took > time.Second {
		t.Fatalf("took %s", took)
	}
	if err == nil || err.Extensions["limit"] != "aliases" {
		t.Fatalf("want an aliases refusal (2^40 - 1 aliases), got %v", err)
	}
}

// Validation refuses fragment cycles before extensions run; the walk must
// not loop on them regardless.
func TestFragments_CyclesDoNotHang(t *testing.T) {
	doc, errs := parser.ParseQuery(&ast.Source{Input: `
		{ item { ...A } }
		fragment A on Item { child { ...B } }
		fragment B on Item { id child { ...A ...B } }`})
	if errs != nil {
		t.Fatal(errs)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(Config{}).(graphql.OperationContextMutator).MutateOperationContext(context.Background(),
			&graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the walk loops on a fragment cycle")
	}
	// Through the server, validation refuses the cycle first.
	r := run(t, newServer(Config{}), `{ item { ...A } } fragment A on Item { child { ...A } }`, nil)
	if len(r.Errors) == 0 {
		t.Fatal("a fragment cycle ran")
	}
}

func TestUnparsableLiteralsDoNotPanic(t *testing.T) {
	doc, errs := parser.ParseQuery(&ast.Source{Input: `{ items(first: 99999999999999999999999) { totalCount } }`})
	if errs != nil {
		t.Fatal(errs)
	}
	doc.Operations[0].SelectionSet[0].(*ast.Field).Definition = schema.Query.Fields.ForName("items")
	New(Config{}).(graphql.OperationContextMutator).MutateOperationContext(context.Background(),
		&graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]})
}

const graphiqlIntrospectionQuery = `
    query IntrospectionQuery {
      __schema {
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types {
          ...FullType
        }
        directives {
          name
          description
          locations
          args(includeDeprecated: true) {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      fields(includeDeprecated: true) {
        name
        description
        args(includeDeprecated: true) {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields(includeDeprecated: true) {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
      isDeprecated
      deprecationReason
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                    ofType {
                      kind
                      name
                      ofType {
                        kind
                        name
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
`

func TestFields_AtTheConfiguredLimitPassesOneMoreIsRefused(t *testing.T) {
	h := newServer(Config{MaxFields: 60})
	// item plus its ids; the document is long enough to be counted.
	doc := func(fields int) string { return "{ item { " + strings.Repeat("id ", fields-1) + "} }" }
	passes(t, h, doc(60), nil)
	e := refused(t, h, "fields", doc(61), nil)
	if num(e.Extensions["max"]) != 60 || num(e.Extensions["actual"]) != 61 || e.Extensions["code"] != "BAD_USER_INPUT" {
		t.Fatalf("refusal: %+v", e)
	}
}

func TestFields_FragmentsAreExpandedAndIntrospectionCounts(t *testing.T) {
	h := newServer(Config{MaxFields: 60})
	// item + 3 × F (19 fields) + 2 × child = 60 fields once F is expanded
	// at each spread (its definition is not counted again); one more is
	// refused.
	q := "{ item { ...F  child { ...F } c2: child { ...F } } } fragment F on Item { " + strings.Repeat("name ", 19) + "}"
	passes(t, h, q, nil)
	if got := num(refused(t, h, "fields", strings.Replace(q, "item {", "item { id", 1), nil).Extensions["actual"]); got != 61 {
		t.Fatalf("counted %d fields, want 61", got)
	}
	// Fields under __schema are validated like any other, so they count.
	intro := "{ __schema { types { " + strings.Repeat("name ", 60) + "} } }"
	refused(t, h, "fields", intro, nil)
}

// Validation compares fields pairwise: a document of anonymous __typename
// fields that fills the parser's token limit would cost seconds of CPU to
// validate. It is refused before validation, with the default limits.
func TestFields_AFloodOfFieldsIsRefusedBeforeValidation(t *testing.T) {
	h := newServer(Config{})
	flood := "{ " + strings.Repeat("__typename ", 14000) + "}"
	e := refused(t, h, "fields", flood, nil)
	if num(e.Extensions["max"]) != 1000 || num(e.Extensions["actual"]) <= 1000 {
		t.Fatalf("refusal: %+v", e)
	}
}

// Found while writing FuzzLimits' field threshold, which fails on it (the
// document is in its seeds): spreads are short and expand, so a
// document shorter than two bytes per allowed field may still be over the
// limit (here 240 bytes, 1,001 fields).
func TestFields_ShortDocumentsWithSpreadsAreCounted(t *testing.T) {
	var doc strings.Builder
	doc.WriteString("fragment F0 on Item { " + strings.Repeat("id ", 10) + "}\n")
	for l := 1; l <= 2; l++ {
		fmt.Fprintf(&doc, "fragment F%d on Item { %s}\n", l, strings.Repeat(fmt.Sprintf("...F%d ", l-1), 10))
	}
	doc.WriteString("{ item { ...F2 } }")
	if doc.Len() >= 2*1000 {
		t.Fatalf("the document is %d bytes: not short", doc.Len())
	}
	e := refused(t, newServer(Config{}), "fields", doc.String(), nil)
	if num(e.Extensions["actual"]) <= 1000 {
		t.Fatalf("refusal: %+v", e)
	}
}

// A document found within the field limit is not parsed again; one over it
// is refused every time.
func TestFields_OnlyDocumentsWithinTheLimitAreRemembered(t *testing.T) {
	l := New(Config{MaxFields: 60}).(*limiter)
	doc := func(fields int) string { return "{ item { " + strings.Repeat("id ", fields-1) + "} }" }
	remembered := func(q string) bool {
		sum := sha256.Sum256([]byte(q))
		_, ok := l.withinFields.Get(context.Background(), string(sum[:]))
		return ok
	}
	within, over := doc(60), doc(61)
	for range 2 {
		if err := l.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: within}); err != nil {
			t.Fatalf("within the limit: %v", err)
		}
		if err := l.MutateOperationParameters(context.Background(), &graphql.RawParams{Query: over}); err == nil || err.Extensions["limit"] != "fields" {
			t.Fatalf("over the limit: %v", err)
		}
	}
	if !remembered(within) || remembered(over) {
		t.Fatalf("remembered: within %v, over %v", remembered(within), remembered(over))
	}
}
