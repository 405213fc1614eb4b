package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// Usage records when a subject last used a permission: one row per subject
// and permission, written in batches off the request path (V2).
type Usage struct{ ent.Schema }

func (Usage) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.Usage)} }

func (Usage) Fields() []ent.Field {
	return []ent.Field{
		field.String("account_id").Immutable().NotEmpty(),
		field.String("subject_id").Immutable().NotEmpty(),
		field.String("permission").Immutable().NotEmpty(),
		field.Time("last_used_at"),
	}
}

func (Usage) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("subject_id", "permission").Unique(),
		index.Fields("account_id", "last_used_at"),
	}
}

func (Usage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
