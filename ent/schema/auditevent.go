package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// AuditEvent records one successful change, written in the same transaction as
// the change itself (L1). Events are never updated or deleted.
type AuditEvent struct{ ent.Schema }

func (AuditEvent) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.AuditEvent), createdAt{}} }

func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		// Empty for platform events (catalog, operator keys), which form a
		// chain of their own.
		field.String("account_id").Default("").Immutable().
			Annotations(entgql.Skip()),
		field.Enum("actor_type").Values("OPERATOR", "USER", "API_KEY", "SYSTEM").Immutable().
			Comment("What kind of principal made the change.").
			Annotations(entgql.Type("ActorType")),
		field.String("actor_id").Immutable().
			Comment("The actor's id: operator key id, user id (usr_…; the user acting through a membership) or API key id."),
		field.String("actor_label").Default("").Immutable().
			Comment("How the actor is shown: a user's email, or a key's id."),
		field.String("action").NotEmpty().Immutable().
			Comment("What happened, e.g. `role.created`, `member.roles.changed`."),
		field.String("target_type").Default("").Immutable().
			Comment("Type of the changed object, e.g. `Role`."),
		field.String("target_id").Default("").Immutable().
			Comment("Id of the changed object."),
		field.JSON("changes", map[string]any{}).Optional().Immutable().
			Annotations(entgql.Skip()),
		field.String("request_id").Default("").Immutable().
			Comment("The request id the change was made in (X-Request-Id)."),
		field.String("client_addr").Default("").Immutable().
			Comment("The client address the change came from."),
		field.String("reason").Default("").Immutable().
			Comment("Why the change was made, as its author said in the mutation's `reason` (access reviews ask for it); empty when not given."),
		field.Int64("seq").Immutable().
			Comment("Position of the event in its account's chain, from 1 (platform events have their own chain)."),
		field.String("prev_hash").Default("").Immutable().
			Comment("The hash of the previous event of the chain (empty for the first)."),
		field.String("hash").NotEmpty().Immutable().
			Comment("SHA-256 over the previous hash and this event's content (L2)."),
		// The writing transaction's id on PostgreSQL, set by the database: the
		// change feed reads what transactions that were still running at its
		// last read have committed since (D6). SQLite, with one writer at a
		// time, reads new events by rowid instead.
		field.Int64("txid").Optional().Immutable().
			Annotations(entgql.Skip(), entsql.DefaultExprs(map[string]string{
				dialect.Postgres: "(pg_current_xact_id()::text::bigint)",
			})),
	}
}

func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		// The log's pages, newest first, with id breaking ties (entgql's
		// order), and their counts (totalCount, pageInfo) from the index
		// alone.
		index.Fields("account_id", "created_at", "id"),
		// One event per position: two writers can never fork a chain.
		index.Fields("account_id", "seq").Unique(),
		index.Fields("txid"),
	}
}

func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
