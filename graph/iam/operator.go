package iam

import (
	"context"

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
