// Package limits is a gqlgen extension that refuses operations that are too
// deep, use too many aliases, cost too much, or ask for pages that are too
// large (SPEC §11). Connection fields cost `first` (or `last`) times their
// children; without either they cost the page size their resolvers default to.
package limits

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Config holds the limits; a zero field takes its default.
type Config struct {
	MaxDepth      int
	MaxAliases    int
	MaxComplexity int
	MaxPageSize   int
}

// Default returns the limits of SPEC §11.
func Default() Config {
	return Config{MaxDepth: 12, MaxAliases: 30, MaxComplexity: 5000, MaxPageSize: 100}
}

// New returns the extension.
func New(cfg Config) graphql.HandlerExtension {
	d := Default()
	if cfg.MaxDepth == 0 {
		cfg.MaxDepth = d.MaxDepth
	}
	if cfg.MaxAliases == 0 {
		cfg.MaxAliases = d.MaxAliases
	}
	if cfg.MaxComplexity == 0 {
		cfg.MaxComplexity = d.MaxComplexity
	}
	if cfg.MaxPageSize == 0 {
		cfg.MaxPageSize = d.MaxPageSize
	}
	return extension{cfg: cfg}
}

type extension struct{ cfg Config }

var (
	_ graphql.HandlerExtension        = extension{}
	_ graphql.OperationContextMutator = extension{}
)

func (extension) ExtensionName() string                   { return "Limits" }
func (extension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext measures the operation before it runs.
func (e extension) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	w := &walker{cfg: e.cfg, doc: rc.Doc, vars: rc.Variables, active: map[string]bool{}}
	cost, depth := w.walk(rc.Operation.SelectionSet, 1)
	switch {
	case w.err != nil:
		return w.err
	case depth > e.cfg.MaxDepth:
		return limitError("depth", fmt.Sprintf("query depth %d exceeds the limit of %d", depth, e.cfg.MaxDepth), e.cfg.MaxDepth, depth)
	case w.aliases > e.cfg.MaxAliases:
		return limitError("aliases", fmt.Sprintf("the query uses %d aliases; the limit is %d", w.aliases, e.cfg.MaxAliases), e.cfg.MaxAliases, w.aliases)
	case cost > e.cfg.MaxComplexity:
		return limitError("complexity", fmt.Sprintf("query complexity %d exceeds the limit of %d (connections cost first × their fields)", cost, e.cfg.MaxComplexity), e.cfg.MaxComplexity, cost)
	}
	return nil
}

func limitError(limit, msg string, max, actual int) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{
		"code": "BAD_USER_INPUT", "limit": limit, "max": max, "actual": actual,
	}}
}

type walker struct {
	cfg     Config
	doc     *ast.QueryDocument
	vars    map[string]any
	aliases int
	active  map[string]bool // fragments being walked, against cycles
	err     *gqlerror.Error
}

// ceiling keeps costs from overflowing: anything above it is refused anyway.
const ceiling = 1 << 40

// walk returns the cost of a selection set and the deepest field level in it.
func (w *walker) walk(set ast.SelectionSet, depth int) (cost, deepest int) {
	for _, sel := range set {
		var c, d int
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue // introspection and __typename are free
			}
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			mult := w.multiplier(s)
			children, childDepth := w.walk(s.SelectionSet, depth+1)
			c, d = 1+mult*children, max(depth, childDepth)
		case *ast.FragmentSpread:
			frag := w.doc.Fragments.ForName(s.Name)
			if frag == nil || w.active[s.Name] {
				continue
			}
			w.active[s.Name] = true
			c, d = w.walk(frag.SelectionSet, depth)
			delete(w.active, s.Name)
		case *ast.InlineFragment:
			c, d = w.walk(s.SelectionSet, depth)
		}
		cost = min(cost+c, ceiling)
		deepest = max(deepest, d)
	}
	return cost, deepest
}

// multiplier is how many times a field's children run: its page size.
func (w *walker) multiplier(f *ast.Field) int {
	args := f.ArgumentMap(w.vars)
	mult, paged := 1, false
	for _, name := range []string{"first", "last"} {
		v, ok := args[name]
		if !ok || v == nil {
			continue
		}
		n, ok := toInt(v)
		if !ok {
			continue
		}
		if n < 0 || n > w.cfg.MaxPageSize {
			if w.err == nil {
				w.err = limitError("pageSize", fmt.Sprintf("%s: %d is outside 0–%d", name, n, w.cfg.MaxPageSize), w.cfg.MaxPageSize, n)
			}
			continue
		}
		mult, paged = max(mult, n), true
	}
	if !paged && f.Definition != nil && f.Definition.Type != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		mult = w.cfg.MaxPageSize
	}
	return mult
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int32:
		return int(n), true
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}
