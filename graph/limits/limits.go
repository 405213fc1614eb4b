// Package limits is a gqlgen handler extension that refuses operations that
// are too deep, use too many aliases, cost too much, or ask for pages that are
// too large (SPEC §11), before any resolver runs.
//
// How an operation is measured (fragment spreads and inline fragments are
// expanded in place; introspection fields — __schema, __type and everything
// under them, and __typename — are free and do not count):
//
//   - depth: the number of nested field levels; `{ viewer { id } }` has depth 2.
//
//   - aliases: fields whose alias differs from their name, counted each time
//     they are selected (an aliased field in a fragment spread three times
//     counts three times).
//
//   - complexity: each field costs 1 (or its schema's @cost weight, for
//     fields whose work grows with the whole account) plus the cost of its
//     children; when the field has a `first` or `last` argument (literal,
//     variable or schema default) its children's cost is multiplied by that
//     value (the larger of the two when both are given). A field whose type
//     is a Relay connection (its named type ends in "Connection") given
//     neither multiplies by the page size limit, the page size its resolver
//     defaults to.
//
//   - page size: a `first` or `last` argument above the page size limit, or
//     negative, on any field is refused.
//
//   - fields: field selections in the whole document, fragments expanded,
//     introspection fields included (unlike the measures above). Checked before gqlgen
//     validates the document, since validation's cost grows with the square
//     of the fields: see fields.go.
//
//   - input values: every argument's strings, lists, nesting and numbers,
//     variables included: see inputs.go.
//
// Every measured operation's response says what it cost, in
// extensions.cost { requested limit } (cost.go).
//
// A refused operation gets one error with extensions.code "BAD_USER_INPUT",
// extensions.limit ("fields", "depth", "aliases", "complexity" or
// "pageSize"; for input values see inputs.go), extensions.max and
// extensions.actual. Fields are checked first, then input values, page
// size, depth, aliases and complexity.
package limits

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Config holds the limits; a zero (or negative) field takes its default.
type Config struct {
	MaxDepth      int // nested field levels (default 12)
	MaxAliases    int // aliases per operation (default 30)
	MaxComplexity int // cost, see the package documentation (default 5,000)
	MaxPageSize   int // largest `first`/`last` (default 100)
	MaxFields     int // field selections per document, fragments expanded (default 1,000)
	Tokens        int // the parser's token limit, for counting fields (default 15,000)
	// MaxInputItems is the most items of any list given as input, JSON
	// arrays in Map arguments included (default 1,000).
	MaxInputItems int
	// MaxInputNesting is how deep input objects (and JSON objects in Map
	// arguments) may nest (default 10).
	MaxInputNesting int
}

// Default returns the limits of SPEC §11.
func Default() Config {
	return Config{MaxDepth: 12, MaxAliases: 30, MaxComplexity: 5000, MaxPageSize: 100, MaxFields: 1000, Tokens: 15000,
		MaxInputItems: 1000, MaxInputNesting: 10}
}

// withDefaults fills the zero (or negative) fields of c from Default.
func (c Config) withDefaults() Config {
	d := Default()
	for _, f := range []struct{ v, def *int }{
		{&c.MaxDepth, &d.MaxDepth}, {&c.MaxAliases, &d.MaxAliases},
		{&c.MaxComplexity, &d.MaxComplexity}, {&c.MaxPageSize, &d.MaxPageSize},
		{&c.MaxFields, &d.MaxFields}, {&c.Tokens, &d.Tokens},
		{&c.MaxInputItems, &d.MaxInputItems}, {&c.MaxInputNesting, &d.MaxInputNesting},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return c
}

// New returns the extension enforcing cfg; add it with (*handler.Server).Use.
func New(cfg Config) graphql.HandlerExtension {
	return &limiter{cfg: cfg.withDefaults(), withinFields: lru.New[struct{}](1000)}
}

type limiter struct {
	cfg    Config
	schema *ast.Schema // for the types of input values
	// withinFields remembers, by SHA-256, documents found within MaxFields.
	withinFields *lru.LRU[struct{}]
}

var (
	_ graphql.HandlerExtension        = (*limiter)(nil)
	_ graphql.OperationContextMutator = (*limiter)(nil)
)

func (*limiter) ExtensionName() string { return "Limits" }

// Validate keeps the schema: input values are checked against its types.
func (e *limiter) Validate(s graphql.ExecutableSchema) error {
	e.schema = s.Schema()
	return nil
}

// MutateOperationContext measures the selected operation, with its variables
// applied, and refuses it when it is over a limit.
func (e *limiter) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc == nil || rc.Operation == nil {
		return nil
	}
	if err := e.checkInputs(rc.Doc, rc.Operation, rc.Variables); err != nil {
		return err
	}
	m, err := e.measure(rc)
	c := e.cfg
	rc.Stats.SetExtension(costKey, Cost{Requested: m.cost, Limit: c.MaxComplexity})
	switch {
	case err != nil:
		return err
	case m.depth > c.MaxDepth:
		return refuse("depth", fmt.Sprintf("query depth %d exceeds the limit of %d", m.depth, c.MaxDepth), c.MaxDepth, m.depth)
	case m.aliases > c.MaxAliases:
		return refuse("aliases", fmt.Sprintf("query uses %d aliases, more than the limit of %d", m.aliases, c.MaxAliases), c.MaxAliases, m.aliases)
	case m.cost > c.MaxComplexity:
		return refuse("complexity", fmt.Sprintf("query complexity %d exceeds the limit of %d (a connection costs first × its fields; ask for smaller pages or fewer nested lists)", m.cost, c.MaxComplexity), c.MaxComplexity, m.cost)
	}
	return nil
}

// measure walks the selected operation of rc with its variables applied. The
// error is the first page-size refusal.
func (e *limiter) measure(rc *graphql.OperationContext) (measure, *gqlerror.Error) {
	w := &walker{
		cfg: e.cfg, doc: rc.Doc, vars: rc.Variables,
		fragments: map[string]measure{}, active: map[string]bool{},
	}
	m := w.selectionSet(rc.Operation.SelectionSet)
	return m, w.err
}

func refuse(limit, msg string, max, actual int) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{
		"code": "BAD_USER_INPUT", "limit": limit, "max": max, "actual": actual,
	}}
}

// measure is what a selection set adds up to. depth is relative: the fields
// of the set itself are level 1.
type measure struct{ cost, depth, aliases int }

func (m measure) plus(o measure) measure {
	return measure{cost: add(m.cost, o.cost), depth: max(m.depth, o.depth), aliases: add(m.aliases, o.aliases)}
}

type walker struct {
	cfg  Config
	doc  *ast.QueryDocument
	vars map[string]any
	// fragments memoizes each fragment's measure: a fragment's measure does
	// not depend on where it is spread, and without this fragments that
	// spread each other several times would take exponential time to walk.
	fragments map[string]measure
	active    map[string]bool // fragments being walked, against cycles
	err       *gqlerror.Error // the first page-size refusal
}

func (w *walker) selectionSet(set ast.SelectionSet) measure {
	var m measure
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			m = m.plus(w.field(s))
		case *ast.InlineFragment:
			m = m.plus(w.selectionSet(s.SelectionSet))
		case *ast.FragmentSpread:
			m = m.plus(w.fragment(s.Name))
		}
	}
	return m
}

func (w *walker) field(f *ast.Field) measure {
	if strings.HasPrefix(f.Name, "__") {
		return measure{} // __typename, __schema, __type and all under them
	}
	children := w.selectionSet(f.SelectionSet)
	m := measure{
		cost:    add(weight(f), mul(w.multiplier(f), children.cost)),
		depth:   children.depth + 1,
		aliases: children.aliases,
	}
	if f.Alias != "" && f.Alias != f.Name {
		m.aliases = add(m.aliases, 1)
	}
	return m
}

// weight is what a field costs itself: its @cost weight in the schema, or 1.
func weight(f *ast.Field) int {
	if f.Definition != nil {
		if d := f.Definition.Directives.ForName("cost"); d != nil {
			if a := d.Arguments.ForName("weight"); a != nil && a.Value != nil {
				if n, err := strconv.Atoi(a.Value.Raw); err == nil && n > 0 {
					return n
				}
			}
		}
	}
	return 1
}

func (w *walker) fragment(name string) measure {
	if m, ok := w.fragments[name]; ok {
		return m
	}
	if w.doc == nil || w.active[name] {
		return measure{} // a cycle (validation refuses these anyway)
	}
	def := w.doc.Fragments.ForName(name)
	if def == nil {
		return measure{}
	}
	w.active[name] = true
	m := w.selectionSet(def.SelectionSet)
	delete(w.active, name)
	w.fragments[name] = m
	return m
}

// multiplier is how many times a field's children run: its page size. It
// records a refusal when `first` or `last` is out of range.
func (w *walker) multiplier(f *ast.Field) int {
	mult, paged := 0, false
	for _, name := range []string{"first", "last"} {
		n, ok := w.intArg(f, name)
		if !ok {
			continue
		}
		if n < 0 || n > int64(w.cfg.MaxPageSize) {
			if w.err == nil {
				w.err = w.pageSizeError(f, name, n)
			}
			n = int64(w.cfg.MaxPageSize)
		}
		mult, paged = max(mult, int(n)), true
	}
	if paged {
		return mult
	}
	if f.Definition != nil && f.Definition.Type != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		return w.cfg.MaxPageSize
	}
	return 1
}

func (w *walker) pageSizeError(f *ast.Field, arg string, n int64) *gqlerror.Error {
	var msg string
	if n < 0 {
		msg = fmt.Sprintf("%s: %d on field %q must not be negative", arg, n, f.Name)
	} else {
		msg = fmt.Sprintf("%s: %d on field %q exceeds the page size limit of %d", arg, n, f.Name, w.cfg.MaxPageSize)
	}
	err := refuse("pageSize", msg, w.cfg.MaxPageSize, int(n))
	if f.Position != nil {
		err.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	return err
}

// intArg is the value of the integer argument name of f: given as a literal
// or a variable, or else the schema's default. It is what
// f.ArgumentMap(vars)[name] holds, read without ArgumentMap's panics on
// values that do not parse.
func (w *walker) intArg(f *ast.Field, name string) (int64, bool) {
	var v *ast.Value
	if a := f.Arguments.ForName(name); a != nil {
		v = a.Value
	} else if f.Definition != nil {
		if d := f.Definition.Arguments.ForName(name); d != nil {
			v = d.DefaultValue
		}
	}
	if v == nil {
		return 0, false
	}
	var val any
	if v.Kind == ast.Variable {
		val = w.vars[v.Raw]
	} else {
		var err error
		if val, err = v.Value(w.vars); err != nil {
			return 0, false
		}
	}
	return toInt(val)
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// ceiling bounds every count: saturating there keeps the sums and products
// from overflowing (a, b ≤ ceiling ⇒ a+b fits in an int).
const ceiling = math.MaxInt / 2

func add(a, b int) int { return min(a+b, ceiling) }

func mul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > ceiling/b {
		return ceiling
	}
	return a * b
}
