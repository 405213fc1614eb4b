package server

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
	"github.com/gatehouse-iam/gatehouse/ent/user"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/jwtauth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/token"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// store resolves credentials against the database (auth.Store).
type store struct {
	client *ent.Client
	svc    *iam.Service
}

func (s *store) OperatorKey(ctx context.Context, id, secret string) (*auth.Principal, error) {
	k, err := s.client.OperatorKey.Get(ctx, ids.OperatorKey+"_"+id)
	if ent.IsNotFound(err) {
		token.Verify(secret, make([]byte, 32)) // same work as a wrong secret
		return nil, auth.ErrInvalid
	}
	if err != nil {
		return nil, err
	}
	if !token.Verify(secret, k.SecretHash) || k.RevokedAt != nil {
		return nil, auth.ErrInvalid
	}
	return &auth.Principal{Kind: auth.Operator, ID: k.ID, Label: k.ID}, nil
}

func (s *store) APIKey(ctx context.Context, id, secret string) (*auth.Principal, error) {
	return s.svc.AuthenticateAPIKey(ctx, id, secret)
}

func (s *store) User(ctx context.Context, c jwtauth.Claims) (*auth.Principal, error) {
	u, err := s.client.User.Query().Where(user.Email(c.Email)).Only(ctx)
	if ent.IsNotFound(err) {
		u, err = s.client.User.Create().SetEmail(c.Email).SetName(c.Name).Save(ctx)
		if ent.IsConstraintError(err) { // created by a concurrent request
			u, err = s.client.User.Query().Where(user.Email(c.Email)).Only(ctx)
		}
	}
	if err != nil {
		return nil, err
	}
	p := &auth.Principal{Kind: auth.User, ID: u.ID, Label: u.Email, UserID: u.ID, Email: u.Email, Name: u.Name}
	if err := s.svc.ActivateInvited(auth.WithPrincipal(ctx, p), u.ID); err != nil {
		return nil, err
	}
	return p, nil
}
