// Package audit is what makes the audit log verifiable (L2, L4) without the
// database: the events' hash chain, checkpoints signed with an Ed25519 key
// kept outside the database, the export format that carries both, and the
// verifier that the server and `gatehouse audit verify` share.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
)

// EventHash is the chain hash of an event: SHA-256 over the previous hash and
// every recorded field of the event. The reason, added later, is hashed only
// when given, so events recorded before it verify as they always did.
func EventHash(e *ent.AuditEvent) string {
	fields := []any{
		e.PrevHash, e.ID, e.AccountID, e.Seq, e.CreatedAt.UTC().Format(time.RFC3339Nano),
		e.ActorType, e.ActorID, e.ActorLabel, e.Action, e.TargetType, e.TargetID,
		e.Changes, e.RequestID, e.ClientAddr,
	}
	if e.Reason != "" {
		fields = append(fields, e.Reason)
	}
	content, _ := json.Marshal(fields)
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}
