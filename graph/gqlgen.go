//go:build ignore

// gqlgen generates graph/generated and the resolver stubs from schema/ and
// gqlgen.yml, as `gqlgen generate` does, with one plugin: inlineFields. It
// runs from the repository root (see ent/generate.go).
package main

import (
	"fmt"
	"log"
	"slices"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

// inline names, per object, the resolvers that answer from the account's
// model in memory and so gain nothing from a goroutine of their own. gqlgen
// resolves every resolver field concurrently: each field of an object after
// the first starts a goroutine, and gqlgen's deep call chain grows its stack
// at once. On the members page (roles and effectivePermissions of 50
// members) that was 12-15 % of the request's CPU. Fields that wait on a
// dataloader stay concurrent, so that their waits overlap.
var inline = map[string][]string{
	"Member": {"roles", "effectivePermissions", "lastActiveAt"},
	"Role":   {"constraints", "effectivePermissions", "masks"},
}

// inlineFields marks the fields of inline to be resolved in line. gqlgen
// decides per object (Object.DisableConcurrency, which it sets for Mutation),
// so each listed field gets a copy of its object with that flag set: the
// field's code is generated from it, and nothing else reads the copy.
type inlineFields struct{}

func (inlineFields) Name() string { return "inlinefields" }

func (inlineFields) GenerateCode(data *codegen.Data) error {
	for _, obj := range data.Objects {
		names, ok := inline[obj.Name]
		if !ok {
			continue
		}
		serial := *obj
		serial.DisableConcurrency = true
		for _, name := range names {
			i := slices.IndexFunc(obj.Fields, func(f *codegen.Field) bool { return f.Name == name })
			if i < 0 {
				return fmt.Errorf("inline: %s has no field %s", obj.Name, name)
			}
			obj.Fields[i].Object = &serial
		}
		delete(inline, obj.Name)
	}
	for name := range inline {
		return fmt.Errorf("inline: no object %s", name)
	}
	return nil
}

func main() {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		log.Fatalf("gqlgen: %v", err)
	}
	if err := api.Generate(cfg, api.AddPlugin(inlineFields{})); err != nil {
		log.Fatalf("gqlgen: %v", err)
	}
}
