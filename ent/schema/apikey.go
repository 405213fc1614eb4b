package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// APIKey authenticates a program in one account with a permission snapshot
// taken at creation (S2, S3). Only the secret's hash is stored (S4).
type APIKey struct{ ent.Schema }

func (APIKey) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.APIKey), createdAt{}} }

func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("account_id").Immutable().NotEmpty().Annotations(entgql.Skip()),
		field.String("name").NotEmpty().MaxRuneLen(200).
			Comment("A name for people; the only thing that can change.").
			Annotations(entgql.OrderField("NAME")),
		field.String("created_by").Immutable().
			Comment("Who created the key: a member id, an operator key id or an API key id."),
		field.String("member_id").Optional().Immutable().
			Comment("The member whose permissions bound the key; the key stops working while they are suspended and is revoked when they are removed (M5).").
			Annotations(entgql.Skip(entgql.SkipType)),
		field.JSON("scopes", []string{}).Immutable().
			Comment("The scopes the key was created with."),
		field.JSON("permissions", []string{}).Immutable().
			Annotations(entgql.Skip()),
		field.JSON("masks", []string{}).Immutable().
			Annotations(entgql.Skip()),
		field.Bytes("secret_hash").Sensitive().Immutable().NotEmpty(),
		field.Time("expires_at").Optional().Nillable().Immutable().
			Comment("When the key stops working; null for never."),
		field.Time("revoked_at").Optional().Nillable().
			Comment("When the key was revoked."),
		field.Time("last_used_at").Optional().Nillable().
			Comment("When the key last authenticated a request (recorded in batches, so up to a minute late)."),
	}
}

func (APIKey) Indexes() []ent.Index {
	return []ent.Index{
		// The account's keys page, in id order (its default), and its count.
		index.Fields("account_id", "id"),
		index.Fields("member_id"),
	}
}

func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Type("ApiKey")}
}
