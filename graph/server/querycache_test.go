package server

import (
	"context"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// The parse and persisted-query caches keep documents of up to
// maxCachedQuery bytes only: a longer one is parsed again every time, and
// pushes nothing out.
func TestQueryCaches_KeepSmallDocumentsOnly(t *testing.T) {
	ctx := context.Background()
	small, padded := "{ __typename }", "{ __typename"+strings.Repeat(" ", maxCachedQuery)+"}"
	docs := newQueryCache()
	docs.Add(ctx, small, &ast.QueryDocument{})
	docs.Add(ctx, padded, &ast.QueryDocument{})
	if _, ok := docs.Get(ctx, small); !ok {
		t.Error("a small document is not cached")
	}
	if _, ok := docs.Get(ctx, padded); ok {
		t.Errorf("a document of %d bytes is cached", len(padded))
	}
	persisted := newPersistedQueries()
	persisted.Add(ctx, "hash-small", small)
	persisted.Add(ctx, "hash-padded", padded)
	if _, ok := persisted.Get(ctx, "hash-small"); !ok {
		t.Error("a small persisted query is not cached")
	}
	if _, ok := persisted.Get(ctx, "hash-padded"); ok {
		t.Errorf("a persisted query of %d bytes is cached", len(padded))
	}
}
