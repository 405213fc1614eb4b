package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/auth/jwtauth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/token"
)

// A session is a long-lived connection authenticated once, when it opens (a
// GraphQL subscription's WebSocket, authenticated by its connection_init
// payload). What it streams is checked again on every change, so a session
// holds the credential it opened with and checks it again with the very
// checks an HTTP request meets.

// Session is what a long-lived connection keeps of its credential.
type Session struct {
	// Recheck authenticates the credential again: nil while it is still
	// valid for the same principal, ErrInvalid once it is revoked or expired,
	// another error when it cannot be checked now.
	Recheck func(ctx context.Context) error
	// End closes the connection (after a credential is found invalid).
	End func()
}

type sessionKey struct{}

// WithSession returns ctx carrying s.
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the connection's session, or nil for a plain request
// (which is authenticated anew each time).
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// Authenticate checks one credential — the value of an Authorization header
// ("Bearer …") or of an X-API-Key header — with the checks of Middleware.
// An empty value is ErrInvalid.
func (a *Authenticator) Authenticate(ctx context.Context, value string) (*Principal, error) {
	secret := strings.TrimSpace(value)
	if scheme, rest, ok := strings.Cut(secret, " "); ok {
		if !strings.EqualFold(scheme, "Bearer") {
			return nil, ErrInvalid
		}
		secret = strings.TrimSpace(rest)
	}
	if secret == "" {
		return nil, ErrInvalid
	}
	return a.authenticate(ctx, secret)
}

// BlockedError refuses a credential, unchecked, from a client address that
// has spent its budget of failed authentications.
type BlockedError struct{ RetryAfter time.Duration }

func (e *BlockedError) Error() string {
	return "too many failed authentications from this address; retry after " + e.RetryAfter.Round(time.Second).String()
}

// AuthenticateAttempt is Authenticate for a credential a client presents
// to open a session (a WebSocket's connection_init), under the budget of
// failed authentications per client address Middleware keeps: from a
// blocked address the credential is not checked (a *BlockedError), and a
// refused one spends a failure. A session's Recheck, of a credential that
// worked, uses Authenticate.
func (a *Authenticator) AuthenticateAttempt(ctx context.Context, value string) (*Principal, error) {
	if a.Failures != nil {
		if wait, blocked := a.Failures.Blocked(ctx); blocked {
			return nil, &BlockedError{RetryAfter: wait}
		}
	}
	p, err := a.Authenticate(ctx, value)
	if IsInvalid(err) {
		a.failed(ctx, reasonOf(err))
	}
	return p, err
}

// IsInvalid reports whether err means the credential is wrong, revoked or
// expired (rather than not checkable right now).
func IsInvalid(err error) bool {
	return errors.Is(err, ErrInvalid) || errors.Is(err, jwtauth.ErrInvalid) || errors.Is(err, token.ErrMalformed)
}
