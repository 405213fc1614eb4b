package generated

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// edgesSelection returns the selection of the elements of
// account.members.edges in query, validated against the schema (which
// annotates every field).
func edgesSelection(t *testing.T, query string) ast.SelectionSet {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(NewExecutableSchema(Config{}).Schema(), query, nil)
	if errs != nil {
		t.Fatalf("%s: %v", query, errs)
	}
	sel := doc.Operations[0].SelectionSet
	for _, name := range []string{"account", "members", "edges"} {
		f, ok := sel[0].(*ast.Field)
		if !ok || f.Name != name {
			t.Fatalf("want field %s first, got %#v", name, sel[0])
		}
		sel = f.SelectionSet
	}
	return sel
}

// The members page's lists are marshalled in line when nothing selected of
// their elements waits on a loader, and concurrently when something does, so
// that the loader still batches every element's wait (SPEC §11; the
// statement counts are proved over HTTP by graph/apitest's dataloader tests).
func TestMarshalSlice_InLineOnlyWhenNoSelectedFieldWaits(t *testing.T) {
	for _, c := range []struct {
		name, edges, fragments string
		waits                  bool
	}{
		{"the members page", `cursor node { id status roles { key grants } effectivePermissions }`, "", false},
		{"typename and in-memory resolvers", `__typename node { __typename lastActiveAt roles { constraints { attribute values } masks effectivePermissions } }`, "", false},
		{"in-memory fields in a named fragment", `node { ...M }`, `fragment M on Member { roles { key } }`, false},
		{"a loader field of the member", `node { id email }`, "", true},
		{"a loader field two levels down", `node { roles { key holderCount } }`, "", true},
		{"an object behind a loader", `node { user { id } }`, "", true},
		{"a loader field in an inline fragment", `node { ... on Member { name } }`, "", true},
		{"a loader field in a named fragment", `node { ...M }`, `fragment M on Member { roles { holderCount } }`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := `query { account(id: "a") { members(first: 10) { edges { ` + c.edges + ` } } } } ` + c.fragments
			if got := waits(edgesSelection(t, q)); got != c.waits {
				t.Errorf("waits = %v, want %v", got, c.waits)
			}
		})
	}
}

// An element that panics is null with an error, the others marshalled, as
// gqlgen does for a list it marshals concurrently.
func TestMarshalSlice_RecoversAnElementThatPanics(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
		func(ctx context.Context, err any) error { return errors.New("internal error") })
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "edges"}}})
	got := marshalSlice(ctx, nil, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		if i == 1 {
			panic("boom")
		}
		return graphql.MarshalInt(*graphql.GetFieldContext(ctx).Index)
	})
	if len(got) != 3 || got[1] != graphql.Null || got[0] == graphql.Null || got[2] == graphql.Null {
		t.Fatalf("got %v", got)
	}
	errs := graphql.GetErrors(ctx)
	if len(errs) != 1 || errs[0].Path.String() != "edges[1]" {
		t.Fatalf("errors %v, want one at edges[1]", gqlerror.List(errs))
	}
}

// Elements whose selection waits are marshalled concurrently: each of them
// here waits until every one has started, which elements marshalled one
// after the other never would. The others are marshalled one at a time.
func TestMarshalSlice_ConcurrentWhenAFieldWaits(t *testing.T) {
	const n = 8
	for _, c := range []struct {
		edges string
		waits bool
		wait  time.Duration // how long an element waits for the others
	}{{`node { id email }`, true, 5 * time.Second}, {`node { id roles { key } }`, false, 10 * time.Millisecond}} {
		sel := edgesSelection(t, `query { account(id: "a") { members(first: 10) { edges { `+c.edges+` } } } }`)
		var started sync.WaitGroup
		started.Add(n)
		all := make(chan struct{})
		go func() { started.Wait(); close(all) }()
		var met, active, most atomic.Int32
		ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
		marshalSlice(ctx, sel, n, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
			if a := active.Add(1); a > most.Load() {
				most.Store(a) // racy max, but only ever too low, and 1 is exact
			}
			defer active.Add(-1)
			started.Done()
			select {
			case <-all:
				met.Add(1)
			case <-time.After(c.wait):
			}
			return graphql.Null
		})
		if c.waits && met.Load() != n {
			t.Errorf("%s: %d of %d elements met the others", c.edges, met.Load(), n)
		}
		if !c.waits && most.Load() != 1 {
			t.Errorf("%s: %d elements ran at once, want one at a time", c.edges, most.Load())
		}
	}
}
