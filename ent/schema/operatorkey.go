package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// OperatorKey authenticates the platform operator (P1). Only its hash is stored.
type OperatorKey struct{ ent.Schema }

func (OperatorKey) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.OperatorKey), createdAt{}} }

func (OperatorKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Default(""),
		field.Bytes("secret_hash").Sensitive().NotEmpty(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

func (OperatorKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
