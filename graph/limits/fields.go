package limits

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

var _ graphql.OperationParameterMutator = (*limiter)(nil)

// MutateOperationParameters refuses a document with more than MaxFields
// field selections (fragments expanded) before gqlgen validates it:
// validation compares fields pairwise, so a document of 15,000 tokens of
// fields would cost seconds of CPU, asked for by anyone, even without
// credentials. A document without fragments and shorter than two bytes per
// allowed field cannot be over the limit (each field is a name and a
// separator) and is not parsed here, nor is one already found within it
// (gqlgen caches its own parse; this one would be repeated per request).
// Fragment spreads are short and expand: ten 4-byte spreads of a fragment
// of ten fields are a hundred fields.
func (e *limiter) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p == nil || len(p.Query) < 2*e.cfg.MaxFields && !strings.Contains(p.Query, "...") {
		return nil
	}
	sum := sha256.Sum256([]byte(p.Query))
	key := string(sum[:])
	if _, ok := e.withinFields.Get(ctx, key); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, e.cfg.Tokens)
	if err != nil {
		return nil // gqlgen reports the parse error itself
	}
	c := &fieldCounter{doc: doc, max: e.cfg.MaxFields, fragments: map[string]int{}, active: map[string]bool{}}
	n := 0
	for _, op := range doc.Operations {
		n = add(n, c.selectionSet(op.SelectionSet))
	}
	for _, f := range doc.Fragments {
		if _, spread := c.fragments[f.Name]; !spread {
			n = add(n, c.fragment(f.Name)) // unused fragments are validated too
		}
	}
	if n > e.cfg.MaxFields {
		return refuse("fields", fmt.Sprintf("the document selects more than %d fields (fragments expanded); split it into several requests", e.cfg.MaxFields), e.cfg.MaxFields, n)
	}
	e.withinFields.Add(ctx, key, struct{}{})
	return nil
}

// fieldCounter counts field selections, fragments expanded in place. Counts
// saturate just above max, and fragments are memoised, so that fragments
// spreading each other cannot make counting itself expensive.
type fieldCounter struct {
	doc       *ast.QueryDocument
	max       int
	fragments map[string]int
	active    map[string]bool
}

func (c *fieldCounter) selectionSet(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n = add(n, add(1, c.selectionSet(s.SelectionSet)))
		case *ast.InlineFragment:
			n = add(n, c.selectionSet(s.SelectionSet))
		case *ast.FragmentSpread:
			n = add(n, c.fragment(s.Name))
		}
		if n > c.max {
			return n
		}
	}
	return n
}

func (c *fieldCounter) fragment(name string) int {
	if n, ok := c.fragments[name]; ok {
		return n
	}
	def := c.doc.Fragments.ForName(name)
	if def == nil || c.active[name] {
		return 0 // unknown or cyclic: validation refuses these
	}
	c.active[name] = true
	n := c.selectionSet(def.SelectionSet)
	delete(c.active, name)
	c.fragments[name] = n
	return n
}
