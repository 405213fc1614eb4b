//go:build ignore

// entc generates the ent client and the GraphQL schema `schema/ent.graphql`.
// It runs from the repository root (see ent/generate.go): root-relative paths
// keep the generated SDL stable between runs.
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

// descriptions document the generated object types: GraphiQL is the manual.
var descriptions = map[string]string{
	"Account":    "A customer account (tenant): its master list, roles, members and audit log (A1).",
	"Permission": "An entry of the platform-wide permission catalog (K1).",
	"Role":       "A named set of grants in one account (R1). SYSTEM roles are locked.",
	"Member":     "A user's place in an account (M1). Only ACTIVE members hold permissions.",
	"User":       "A person, identified by the email of the company's identity provider.",
	"AuditEvent": "One successful change, written in the same transaction as the change (L1).",
}

func describeTypes(_ *gen.Graph, s *ast.Schema) error {
	for name, text := range descriptions {
		if t, ok := s.Types[name]; ok && t.Description == "" {
			t.Description = text
		}
	}
	return nil
}

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithWhereInputs(true),
		entgql.WithConfigPath("gqlgen.yml"),
		entgql.WithSchemaPath("schema/ent.graphql"),
		entgql.WithSchemaHook(describeTypes),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:   "./ent",
		Package:  "github.com/gatehouse-iam/gatehouse/ent",
		Features: []gen.Feature{gen.FeatureVersionedMigration, gen.FeatureLock, gen.FeatureUpsert, gen.FeatureExecQuery},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
