package iam

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/token"
)

// CreateOperatorKey creates an operator key (P1) and returns it with its
// secret, which is shown this once and stored only as a hash.
func (s *Service) CreateOperatorKey(ctx context.Context, name string) (*ent.OperatorKey, string, error) {
	id := ids.New(ids.OperatorKey)
	secret, hash, err := token.Generate(auth.OperatorKeyPrefix, ids.Suffix(id))
	if err != nil {
		return nil, "", apperr.Wrap(err, "iam.CreateOperatorKey")
	}
	var k *ent.OperatorKey
	err = s.inTx(ctx, "", func(tx *ent.Tx) error {
		if k, err = tx.OperatorKey.Create().SetID(id).SetName(name).SetSecretHash(hash).Save(ctx); err != nil {
			return err
		}
		return record(ctx, tx, event{Action: "operator_key.created", TargetType: "OperatorKey", TargetID: k.ID,
			Changes: map[string]any{"name": name}})
	})
	if err != nil {
		return nil, "", err
	}
	return k.Unwrap(), secret, nil
}

// RevokeOperatorKeyInput names an operator key to revoke.
type RevokeOperatorKeyInput struct {
	OperatorKeyID string `json:"operatorKeyId"`
	Why
}

// RevokeOperatorKey revokes an operator key. The platform's chain records it,
// so every server drops its cached operator keys (D6).
func (s *Service) RevokeOperatorKey(ctx context.Context, in RevokeOperatorKeyInput) (*ent.OperatorKey, error) {
	var k *ent.OperatorKey
	err := s.inTx(ctx, "", func(tx *ent.Tx) error {
		cur, err := tx.OperatorKey.Get(ctx, in.OperatorKeyID)
		if err != nil {
			return notFoundOr(err, "operator key", in.OperatorKeyID)
		}
		if cur.RevokedAt != nil {
			return apperr.New(apperr.Conflict, "the key was revoked at %s", cur.RevokedAt.Format(time.RFC3339)).With("reason", "ALREADY_REVOKED")
		}
		if k, err = cur.Update().SetRevokedAt(time.Now()).Save(ctx); err != nil {
			return err
		}
		return record(ctx, tx, event{Action: "operator_key.revoked", TargetType: "OperatorKey", TargetID: k.ID,
			Changes: map[string]any{"name": k.Name}})
	})
	if err != nil {
		return nil, err
	}
	return k.Unwrap(), nil
}

// operatorKeys remembers operator keys by id, so that authenticating one
// sends no SQL once warm. Every change of the platform's chain (a key
// created or revoked here or on another server, as the change feed reports
// it) empties it.
type operatorKeys struct {
	mu   sync.Mutex
	byID map[string]*ent.OperatorKey
}

func (o *operatorKeys) get(id string) (*ent.OperatorKey, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k, ok := o.byID[id]
	return k, ok
}

func (o *operatorKeys) put(k *ent.OperatorKey, gen uint64, c *cache) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byID == nil {
		o.byID = map[string]*ent.OperatorKey{}
	}
	if c.globalGen() == gen { // no platform change since the key was read
		o.byID[k.ID] = k
	}
}

func (o *operatorKeys) clear() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.byID)
}

// AuthenticateOperatorKey returns the principal of an operator key secret
// whose format and checksum were already checked. Unknown keys, wrong
// secrets and revoked keys all get ErrInvalid, with the reason for the log
// only (P1, S4).
func (s *Service) AuthenticateOperatorKey(ctx context.Context, ulid, secret string) (*auth.Principal, error) {
	id := ids.OperatorKey + "_" + ulid
	k, ok := s.opKeys.get(id)
	if !ok || !s.cache.fresh() {
		gen := s.cache.globalGen()
		var err error
		k, err = s.client.OperatorKey.Get(ctx, id)
		if ent.IsNotFound(err) {
			token.Verify(secret, make([]byte, 32)) // the same work as a wrong secret
			return nil, auth.Invalid("unknown operator key")
		}
		if err != nil {
			return nil, err
		}
		s.opKeys.put(k, gen, s.cache)
	}
	if !token.Verify(secret, k.SecretHash) {
		return nil, auth.Invalid("wrong secret")
	}
	if k.RevokedAt != nil {
		return nil, auth.Invalid("operator key revoked")
	}
	return &auth.Principal{Kind: auth.Operator, ID: k.ID, Label: k.ID}, nil
}
