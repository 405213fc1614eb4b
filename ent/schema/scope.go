package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// Scope is a named bundle of grants for API keys, per account (S1).
type Scope struct{ ent.Schema }

func (Scope) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.Scope), timestamps{}} }

func (Scope) Fields() []ent.Field {
	return []ent.Field{
		field.String("account_id").Immutable().NotEmpty().Annotations(entgql.Skip()),
		field.String("key").NotEmpty().MaxLen(64).
			Comment("Unique key of the scope in its account, e.g. `read`.").
			Annotations(entgql.OrderField("KEY")),
		field.String("description").Default("").MaxRuneLen(2000).
			Comment("What keys with this scope may do."),
		field.JSON("grants", []string{}).
			Comment("Permission keys and wildcard patterns the scope bundles."),
	}
}

func (Scope) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "key").Unique()}
}

func (Scope) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
