//go:build tools

// Package tools records the code generators Gatehouse builds with, so that
// `go mod tidy` keeps them and `go generate ./...` runs the pinned versions.
package tools

import (
	_ "entgo.io/contrib/entgql"
	_ "entgo.io/ent/cmd/ent"
	_ "github.com/99designs/gqlgen"
)
