package audit

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
)

// Checkpoint is a signed statement that events FromSeq+1 … ToSeq of a chain
// had the listed hashes when it was signed (L4). Listing every hash, rather
// than the head's alone, is what lets a verifier name the altered event.
type Checkpoint struct {
	ID        string    `json:"id"`
	AccountID string    `json:"accountId"`
	FromSeq   int64     `json:"fromSeq"`
	ToSeq     int64     `json:"toSeq"`
	Hashes    []string  `json:"hashes"`
	SignedAt  time.Time `json:"signedAt"`
	KeyID     string    `json:"keyId"`
	Signature string    `json:"signature"` // base64 (standard, padded)
}

// FromEnt converts a stored checkpoint.
func FromEnt(c *ent.AuditCheckpoint) *Checkpoint {
	return &Checkpoint{
		ID: c.ID, AccountID: c.AccountID, FromSeq: c.FromSeq, ToSeq: c.ToSeq, Hashes: c.Hashes,
		SignedAt: c.SignedAt, KeyID: c.KeyID, Signature: c.Signature,
	}
}

// message is what is signed: a versioned, canonical JSON encoding of every
// field but the id (which proves nothing) and the signature itself.
func (c *Checkpoint) message() []byte {
	b, _ := json.Marshal([]any{
		"gatehouse.audit.checkpoint.v1", c.AccountID, c.FromSeq, c.ToSeq,
		c.SignedAt.UTC().Format(time.RFC3339Nano), c.KeyID, c.Hashes,
	})
	return b
}

// Sign fills in the key id and signature of c.
func (s *Signer) Sign(c *Checkpoint) {
	c.KeyID = s.id
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, c.message()))
}

// Verify checks c's shape and signature against the key it names.
func (k *Keys) Verify(c *Checkpoint) error {
	if c.FromSeq < 0 || c.ToSeq <= c.FromSeq || int64(len(c.Hashes)) != c.ToSeq-c.FromSeq {
		return errors.New("it is malformed (its hashes do not match its range)")
	}
	pub, ok := k.byID[c.KeyID]
	if !ok {
		return fmt.Errorf("it is signed by an unknown key %q", c.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(pub, c.message(), sig) {
		return errors.New("its signature does not verify")
	}
	return nil
}
