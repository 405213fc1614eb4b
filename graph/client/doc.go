// Package client is a typed Go client of Gatehouse's GraphQL API, generated
// by genqlient from the committed SDL (schema/) and the operations in
// operations.graphql — the README's examples. It is both an example for
// integrators and a check: CI regenerates it, so a schema change that breaks
// one of these operations fails the build (see "Schema changes" in the
// README).
//
//	gql := graphql.NewClient("http://localhost:8080/graphql", client.WithKey(http.DefaultClient, key))
//	res, err := client.MembersAndRoles(ctx, gql, accountID, nil, nil)
package client

//go:generate go run github.com/Khan/genqlient genqlient.yaml
