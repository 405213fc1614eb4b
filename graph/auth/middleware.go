package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatehouse-iam/gatehouse/graph/auth/jwtauth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/token"
)

// Token prefixes of Gatehouse's secrets.
const (
	OperatorKeyPrefix = "gko"
	APIKeyPrefix      = "gk"
)

// Store looks up what credentials refer to. An unknown key and a wrong
// secret must be indistinguishable to the caller: Store returns ErrInvalid
// for both.
type Store interface {
	// OperatorKey returns the principal of the operator key whose id's ULID
	// part is id, when secret matches it and it is not revoked.
	OperatorKey(ctx context.Context, id, secret string) (*Principal, error)
	// APIKey does the same for API keys.
	APIKey(ctx context.Context, id, secret string) (*Principal, error)
	// User returns the principal of the user a validated JWT names, creating
	// the user on first sight and activating their invitations (M1).
	User(ctx context.Context, claims jwtauth.Claims) (*Principal, error)
}

// ErrInvalid is the one answer to a bad credential.
var ErrInvalid = errors.New("invalid credentials")

// Authenticator is the HTTP middleware of P1–P4.
type Authenticator struct {
	Store Store
	// JWT validates dashboard users' tokens; nil refuses JWTs.
	JWT *jwtauth.Verifier
	Log *slog.Logger
	// Outage, when set, is told of each request refused as UNAVAILABLE.
	Outage func(ctx context.Context)
}

// credentialParams are query parameters that would carry a secret in a URL.
var credentialParams = []string{"api_key", "apikey", "access_token", "token", "key"}

// Middleware authenticates the request. Requests without credentials go on
// anonymously (only introspection answers them); wrong, revoked or expired
// credentials are refused with HTTP 401 — never a silent anonymous fallback.
// A credential that cannot be checked now (storage unreachable, too slow) is
// not a wrong one: HTTP 503 UNAVAILABLE with Retry-After, so that clients
// retry instead of logging users out or rotating keys (P5).
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		for _, p := range credentialParams {
			if q.Has(p) {
				Unauthorized(w, "credentials in URLs are refused; send them in the Authorization or X-API-Key header")
				return
			}
		}
		secret, ok := credential(r)
		if !ok {
			Unauthorized(w, "send one credential: Authorization: Bearer <secret> or X-API-Key: <secret>")
			return
		}
		if secret == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, err := a.authenticate(r.Context(), secret)
		switch {
		case IsInvalid(err):
			Unauthorized(w, "invalid, revoked or expired credentials")
			return
		case err != nil:
			a.Log.WarnContext(r.Context(), "credentials could not be checked", "err", err)
			if a.Outage != nil {
				a.Outage(r.Context())
			}
			w.Header().Set("Retry-After", "1")
			WriteError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "credentials cannot be checked right now; retry shortly")
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// credential returns the secret of the request ("" when none) and false
// when two different secrets are sent.
func credential(r *http.Request) (string, bool) {
	var bearer string
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(rest) == "" {
			return "", false
		}
		bearer = strings.TrimSpace(rest)
	}
	key := strings.TrimSpace(r.Header.Get("X-API-Key"))
	if bearer != "" && key != "" && bearer != key {
		return "", false
	}
	if bearer != "" {
		return bearer, true
	}
	return key, true
}

func (a *Authenticator) authenticate(ctx context.Context, secret string) (*Principal, error) {
	if jwtauth.LooksLikeJWT(secret) {
		if a.JWT == nil {
			return nil, ErrInvalid
		}
		claims, err := a.JWT.Verify(ctx, secret)
		if err != nil {
			return nil, err
		}
		p, err := a.Store.User(ctx, claims)
		if p != nil {
			p.Expires = claims.ExpiresAt
		}
		return p, err
	}
	// The format and checksum are checked before any lookup (S4).
	prefix, id, err := token.Parse(secret)
	if err != nil {
		return nil, err
	}
	switch prefix {
	case OperatorKeyPrefix:
		return a.Store.OperatorKey(ctx, id, secret)
	case APIKeyPrefix:
		return a.Store.APIKey(ctx, id, secret)
	}
	return nil, ErrInvalid
}

// Unauthorized writes a GraphQL-shaped UNAUTHENTICATED error with HTTP 401.
func Unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	WriteError(w, http.StatusUnauthorized, "UNAUTHENTICATED", msg)
}

// WriteError writes a GraphQL-over-HTTP error response.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}
