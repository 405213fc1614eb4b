package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
)

// maxCachedQuery is the longest query text the parse and persisted-query
// caches keep: dashboards' documents are a few KB.
const maxCachedQuery = 16 << 10

// smallOnly is a cache of 1,000 entries that keeps only values whose query
// text (weigh) is at most maxCachedQuery bytes; longer documents are parsed
// every time, which their size costs anyway. Counted by entries alone, the
// caches kept up to 1,000 request bodies of up to GATEHOUSE_MAX_BODY_BYTES
// each: 2 GB an anonymous client filled in seconds with `{ __typename }`
// padded with spaces (spaces are no parser tokens), or with any text sent
// under its own hash as a persisted query, pushing out every other entry.
type smallOnly[T any] struct {
	graphql.Cache[T]
	weigh func(key string, value T) int
}

func (c smallOnly[T]) Add(ctx context.Context, key string, value T) {
	if c.weigh(key, value) <= maxCachedQuery {
		c.Cache.Add(ctx, key, value)
	}
}

// newQueryCache caches parsed documents by their text.
func newQueryCache() graphql.Cache[*ast.QueryDocument] {
	return smallOnly[*ast.QueryDocument]{lru.New[*ast.QueryDocument](1000), func(text string, _ *ast.QueryDocument) int { return len(text) }}
}

// newPersistedQueries caches persisted queries' text by their hash.
func newPersistedQueries() graphql.Cache[string] {
	return smallOnly[string]{lru.New[string](1000), func(_ string, text string) int { return len(text) }}
}
