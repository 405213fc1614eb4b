package server

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// oneResponse is the executor of a transport that answers an operation with
// one response (POST, GET). gqlgen would defer a @defer fragment's fields
// there too and deliver them in later payloads that such a transport never
// sends: they stayed null, with "hasNext": true. @defer is a hint a server
// may decline, so these transports execute the operation as if no fragment
// were deferred. The document is parsed once and cached for every request,
// so the operation that runs is a copy without the directive.
type oneResponse struct{ graphql.GraphExecutor }

func (e oneResponse) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	rc, errs := e.GraphExecutor.CreateOperationContext(ctx, params)
	// Every document that defers names the directive; most do not.
	if len(errs) == 0 && rc != nil && rc.Operation != nil && strings.Contains(rc.RawQuery, "defer") && docDefers(rc.Doc) {
		rc.Doc, rc.Operation = withoutDefer(rc.Doc, rc.Operation)
	}
	return rc, errs
}

// docDefers reports whether a fragment of doc's operations or fragments
// carries @defer.
func docDefers(doc *ast.QueryDocument) bool {
	for _, op := range doc.Operations {
		if defers(op.SelectionSet) {
			return true
		}
	}
	for _, f := range doc.Fragments {
		if defers(f.SelectionSet) {
			return true
		}
	}
	return false
}

func defers(sel ast.SelectionSet) bool {
	for _, s := range sel {
		var dirs ast.DirectiveList
		switch s := s.(type) {
		case *ast.Field:
			if defers(s.SelectionSet) {
				return true
			}
			continue
		case *ast.InlineFragment:
			if defers(s.SelectionSet) {
				return true
			}
			dirs = s.Directives
		case *ast.FragmentSpread:
			dirs = s.Directives
		}
		if dirs.ForName("defer") != nil {
			return true
		}
	}
	return false
}

// withoutDefer copies doc's fragments and op without @defer: the selection
// sets down to every fragment, each node copied (the definitions they point
// to in the schema are shared).
func withoutDefer(doc *ast.QueryDocument, op *ast.OperationDefinition) (*ast.QueryDocument, *ast.OperationDefinition) {
	out := &ast.QueryDocument{Position: doc.Position, Comment: doc.Comment}
	frags := make(map[string]*ast.FragmentDefinition, len(doc.Fragments))
	for _, f := range doc.Fragments {
		c := *f
		frags[f.Name] = &c
		out.Fragments = append(out.Fragments, &c)
	}
	for _, c := range out.Fragments {
		c.SelectionSet = undefer(c.SelectionSet, frags)
	}
	o := *op
	o.SelectionSet = undefer(op.SelectionSet, frags)
	for _, d := range doc.Operations {
		if d == op {
			d = &o
		}
		out.Operations = append(out.Operations, d)
	}
	return out, &o
}

func undefer(sel ast.SelectionSet, frags map[string]*ast.FragmentDefinition) ast.SelectionSet {
	if sel == nil {
		return nil
	}
	out := make(ast.SelectionSet, len(sel))
	for i, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			c := *s
			c.SelectionSet = undefer(s.SelectionSet, frags)
			out[i] = &c
		case *ast.InlineFragment:
			c := *s
			c.Directives = withoutDirective(s.Directives, "defer")
			c.SelectionSet = undefer(s.SelectionSet, frags)
			out[i] = &c
		case *ast.FragmentSpread:
			c := *s
			c.Directives = withoutDirective(s.Directives, "defer")
			if f, ok := frags[s.Name]; ok {
				c.Definition = f
			}
			out[i] = &c
		default:
			out[i] = s
		}
	}
	return out
}

func withoutDirective(dirs ast.DirectiveList, name string) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range dirs {
		if d.Name != name {
			out = append(out, d)
		}
	}
	return out
}
