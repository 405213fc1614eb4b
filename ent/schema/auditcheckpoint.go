package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// AuditCheckpoint is a signed statement of a stretch of one chain (L4): the
// hashes of the events after from_seq up to to_seq, signed with an Ed25519
// key kept outside the database. A history rewritten with recomputed hashes
// no longer matches it. Checkpoints are append-only, like audit events.
type AuditCheckpoint struct{ ent.Schema }

func (AuditCheckpoint) Mixin() []ent.Mixin { return []ent.Mixin{ids.Mixin(ids.Checkpoint)} }

func (AuditCheckpoint) Fields() []ent.Field {
	return []ent.Field{
		// Empty for the platform chain, as in audit_events.
		field.String("account_id").Default("").Immutable(),
		field.Int64("from_seq").Immutable().NonNegative(),
		field.Int64("to_seq").Immutable().Positive(),
		// The hashes of events from_seq+1 … to_seq, in order.
		field.Strings("hashes").Immutable(),
		field.Time("signed_at").Immutable(),
		// The signing key's fingerprint (see graph/audit.KeyID).
		field.String("key_id").NotEmpty().Immutable(),
		// Base64 of the Ed25519 signature.
		field.String("signature").NotEmpty().Immutable(),
	}
}

func (AuditCheckpoint) Indexes() []ent.Index {
	return []ent.Index{
		// Two servers signing the same head store it once.
		index.Fields("account_id", "to_seq").Unique(),
		index.Fields("account_id", "from_seq"),
	}
}

func (AuditCheckpoint) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
