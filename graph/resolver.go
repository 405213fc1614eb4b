// Package graph is Gatehouse's GraphQL layer: thin resolvers over the iam
// commands, the @hasPermission and @operatorOnly directives, and the guard of
// node(id:)/nodes(ids:). The generated executor lives in graph/generated.
package graph

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/generated"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// Resolver holds the resolvers' dependencies.
type Resolver struct {
	svc      *iam.Service
	client   *ent.Client
	pageSize int // a connection's page when neither first nor last is given
}

// NewSchema returns the executable schema over svc; pageSize is the page
// size limit (DefaultPageSize when not positive).
func NewSchema(svc *iam.Service, pageSize int) graphql.ExecutableSchema {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	r := &Resolver{svc: svc, client: svc.Client(), pageSize: pageSize}
	return generated.NewExecutableSchema(generated.Config{
		Resolvers: r,
		Directives: generated.DirectiveRoot{
			HasPermission: r.hasPermission,
			OperatorOnly:  operatorOnly,
		},
	})
}
