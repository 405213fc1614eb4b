package auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

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

// Invalid is ErrInvalid with the reason, for the log only: the client gets
// one answer whatever the reason (S4).
func Invalid(reason string) error { return &invalidError{reason: reason} }

type invalidError struct{ reason string }

func (e *invalidError) Error() string        { return "invalid credentials: " + e.reason }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// Authenticator is the HTTP middleware of P1–P4.
type Authenticator struct {
	Store Store
	// JWT validates dashboard users' tokens; nil refuses JWTs.
	JWT *jwtauth.Verifier
	Log *slog.Logger
	// Outage, when set, is told of each request refused as UNAVAILABLE.
	Outage func(ctx context.Context)
	// Failures, when set, limits failed authentications per client
	// address: once its budget is spent, requests with credentials are
	// refused with 429 before any is checked (brute force).
	Failures FailureLimiter
}

// FailureLimiter keeps a budget of failed authentications per client.
type FailureLimiter interface {
	// Blocked reports whether the request's client has spent its budget,
	// and when to retry.
	Blocked(ctx context.Context) (retryAfter time.Duration, blocked bool)
	// Failed spends one failure of the request's client; reason is why
	// the credential was refused (a fixed text, for metrics).
	Failed(ctx context.Context, reason string)
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
		ctx := r.Context()
		if r.URL.RawQuery != "" { // parsed only when there is one
			q := r.URL.Query()
			for _, p := range credentialParams {
				if q.Has(p) {
					a.refuse(w, r, "credentials in the URL", errInvalidRequest,
						"credentials in URLs are refused; send them in the Authorization or X-API-Key header")
					return
				}
			}
		}
		secret, ok := credential(r)
		if !ok {
			a.refuse(w, r, "malformed or conflicting credential headers", errInvalidRequest,
				"send one credential: Authorization: Bearer <secret> or X-API-Key: <secret>")
			return
		}
		if secret == "" {
			next.ServeHTTP(w, r)
			return
		}
		if a.Failures != nil {
			if wait, blocked := a.Failures.Blocked(ctx); blocked {
				RateLimited(w, wait, "too many failed authentications from this address")
				return
			}
		}
		p, err := a.authenticate(ctx, secret)
		switch {
		case IsInvalid(err):
			a.refuse(w, r, reasonOf(err), errInvalidToken, "invalid, revoked or expired credentials")
			return
		case err != nil:
			a.Log.WarnContext(r.Context(), "credentials could not be checked", "err", err)
			if a.Outage != nil {
				a.Outage(r.Context())
			}
			w.Header().Set("Retry-After", strconv.Itoa(UnavailableRetryAfter))
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
	if h := headerValue(r.Header, "Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(rest) == "" {
			return "", false
		}
		bearer = strings.TrimSpace(rest)
	}
	key := strings.TrimSpace(headerValue(r.Header, "X-Api-Key"))
	if bearer != "" && key != "" && bearer != key {
		return "", false
	}
	if bearer != "" {
		return bearer, true
	}
	return key, true
}

// headerValue is Header.Get for a key in canonical form: Get would
// canonicalize it again (allocating, for X-API-Key) on every request.
func headerValue(h http.Header, canonical string) string {
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// RFC 6750 §3.1 error codes of a WWW-Authenticate challenge.
const (
	errInvalidRequest = "invalid_request"
	errInvalidToken   = "invalid_token"
)

// refuse answers 401 and logs why at info level, with the request's id (the
// client sees one answer for every reason). Each refusal spends one of the
// client address's failures.
func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, why, code, msg string) {
	a.failed(r.Context(), why)
	challenge(w, code, msg)
}

// failed logs a refused credential and why, at info level, and spends one
// of its client address's failures.
func (a *Authenticator) failed(ctx context.Context, why string) {
	if a.Log != nil {
		a.Log.InfoContext(ctx, "authentication failed", "reason", why, "client_addr", MetaFrom(ctx).ClientAddr)
	}
	if a.Failures != nil {
		a.Failures.Failed(ctx, why)
	}
}

// reasonOf says why a credential was refused: a fixed text (never the
// credential or a library's message, which may quote it).
func reasonOf(err error) string {
	var ie *invalidError
	switch {
	case errors.As(err, &ie):
		return ie.reason
	case errors.Is(err, jwtauth.ErrInvalid):
		// jwtauth's messages are its fixed reasons ("invalid token: expired").
		return "jwt: " + strings.TrimPrefix(err.Error(), jwtauth.ErrInvalid.Error()+": ")
	case errors.Is(err, token.ErrMalformed):
		return "malformed key or bad checksum"
	}
	return "invalid credentials"
}

func (a *Authenticator) authenticate(ctx context.Context, secret string) (*Principal, error) {
	if jwtauth.LooksLikeJWT(secret) {
		if a.JWT == nil {
			return nil, Invalid("jwt: no JWT verification configured")
		}
		claims, err := a.JWT.Verify(ctx, secret)
		if err != nil {
			return nil, err
		}
		p, err := a.Store.User(ctx, claims)
		if err != nil || p == nil {
			return p, err
		}
		// The store's principal is the user's, shared by every request
		// of theirs: this request's token expiry goes on a copy, or a
		// concurrent request's token would set when this one's session
		// ends (sessions end when their own token expires).
		own := *p
		own.Expires = claims.ExpiresAt
		return &own, nil
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
	return nil, Invalid("unknown key prefix")
}

// Unauthorized writes a GraphQL-shaped UNAUTHENTICATED error with HTTP 401
// and a bare Bearer challenge (RFC 6750 §3: no error code for a request
// that carried no credential).
func Unauthorized(w http.ResponseWriter, msg string) { challenge(w, "", msg) }

// challenge writes 401 with RFC 6750's WWW-Authenticate: Bearer, and the
// error code when there is one (invalid_token for a refused credential).
// The description is the message: fixed texts, the same for every reason a
// credential fails.
func challenge(w http.ResponseWriter, code, msg string) {
	v := `Bearer realm="gatehouse"`
	if code != "" {
		v += `, error="` + code + `", error_description="` + strings.ReplaceAll(msg, `"`, `'`) + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	WriteError(w, http.StatusUnauthorized, "UNAUTHENTICATED", msg)
}

// ErrorNoter is implemented by a ResponseWriter (or one it wraps) that
// wants to know the error codes written to it: the access log's.
type ErrorNoter interface{ NoteErrorCode(code string) }

// NoteError tells the first ErrorNoter in w's chain of an error code
// written to w (WriteError does; so must other error writers).
func NoteError(w http.ResponseWriter, code string) {
	for w != nil {
		if n, ok := w.(ErrorNoter); ok {
			n.NoteErrorCode(code)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// WriteError writes a GraphQL-over-HTTP error response.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	WriteErrorWith(w, status, code, msg, nil)
}

// WriteErrorWith is WriteError with more extensions beside the code.
func WriteErrorWith(w http.ResponseWriter, status int, code, msg string, extensions map[string]any) {
	NoteError(w, code)
	ext := map[string]any{"code": code}
	for k, v := range extensions {
		ext[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": ext}},
	})
}

// UnavailableRetryAfter is the Retry-After, in seconds, of every
// UNAVAILABLE answer (HTTP 503): storage is expected back soon (P5).
const UnavailableRetryAfter = 1

// RetryAfterSeconds is wait as a Retry-After: whole seconds, at least 1.
func RetryAfterSeconds(wait time.Duration) int { return max(1, int(math.Ceil(wait.Seconds()))) }

// RateLimited writes RATE_LIMITED with HTTP 429 and a Retry-After of wait
// in whole seconds (at least 1); the message is what was exceeded.
func RateLimited(w http.ResponseWriter, wait time.Duration, exceeded string) {
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds(wait)))
	WriteError(w, http.StatusTooManyRequests, "RATE_LIMITED", exceeded+"; retry after "+wait.Round(time.Second).String())
}
