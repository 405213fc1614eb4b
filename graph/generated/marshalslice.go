package generated

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// fieldKey names a field of an object type.
type fieldKey struct{ object, field string }

// marshalSlice marshals a list of objects. Every generated list calls it
// instead of graphql.MarshalSliceConcurrently (see graph/gqlgen.go).
//
// gqlgen marshals each element of a list in a goroutine of its own, so that
// the fields of every element that wait on a dataloader wait together and
// the loader batches them. When none of the fields selected of the elements
// (at any depth) can wait, the goroutines only cost: on a members page, with
// 50 members of two roles each, 10-15 % of the request's CPU, most of it
// growing their stacks. marshalSlice then marshals the elements in line, one
// after the other, as gqlgen does a list of one; otherwise it hands the list
// to gqlgen.
func marshalSlice(ctx context.Context, sel ast.SelectionSet, length int, workerLimit int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if length <= 1 || waits(sel) {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	ret := make(graphql.Array, length)
	for i := range length {
		ctx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if omitPanicHandler {
			ret[i] = marshalElement(ctx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(ctx, graphql.Recover(ctx, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshalElement(ctx, i)
		}()
	}
	return ret
}

// waits reports whether a field of sel, or of its fields' selections, is
// resolved concurrently (concurrentFields), or might be: a field selected on
// an interface or a union, or one the validator left unannotated.
func waits(sel ast.SelectionSet) bool {
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			def := s.ObjectDefinition
			if def == nil || def.Kind != ast.Object {
				return true
			}
			if _, ok := concurrentFields[fieldKey{def.Name, s.Name}]; ok || waits(s.SelectionSet) {
				return true
			}
		case *ast.InlineFragment:
			if waits(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || waits(s.Definition.SelectionSet) {
				return true
			}
		default:
			return true
		}
	}
	return false
}
