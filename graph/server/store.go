package server

import (
	"context"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/user"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/jwtauth"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// store resolves credentials against the database (auth.Store).
type store struct {
	client *ent.Client
	svc    *iam.Service
	users  *lru.Cache[string, *auth.Principal] // by email
}

func newStore(client *ent.Client, svc *iam.Service) *store {
	users, _ := lru.New[string, *auth.Principal](100_000)
	return &store{client: client, svc: svc, users: users}
}

func (s *store) OperatorKey(ctx context.Context, id, secret string) (*auth.Principal, error) {
	return s.svc.AuthenticateOperatorKey(ctx, id, secret)
}

func (s *store) APIKey(ctx context.Context, id, secret string) (*auth.Principal, error) {
	return s.svc.AuthenticateAPIKey(ctx, id, secret)
}

// User returns the principal of a JWT's user. Users are remembered by email
// (their id never changes), so that a warm dashboard request sends no SQL;
// the first sight of a user on this server creates the user if new and
// activates its invitations (M1).
func (s *store) User(ctx context.Context, c jwtauth.Claims) (*auth.Principal, error) {
	if p, ok := s.users.Get(c.Email); ok {
		return p, nil
	}
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
	s.users.Add(c.Email, p)
	return p, nil
}
