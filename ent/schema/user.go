package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// User is a person known by the email of the company's identity provider. A
// user may be a member of several accounts.
type User struct{ ent.Schema }

func (User) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.User), timestamps{}} }

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").Unique().NotEmpty().MaxRuneLen(254).
			Comment("The user's email address, lower-cased; it identifies the user in JWTs (`email` claim)."),
		field.String("name").Default("").MaxRuneLen(200).
			Comment("The user's display name."),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", Member.Type).Annotations(entgql.Skip()),
	}
}
