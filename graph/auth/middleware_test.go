package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/gatehouse-iam/gatehouse/graph/auth/jwtauth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/token"
)

// refusingStore refuses every key, with a reason, and counts lookups.
type refusingStore struct{ lookups int }

func (s *refusingStore) OperatorKey(context.Context, string, string) (*Principal, error) {
	s.lookups++
	return nil, Invalid("unknown operator key")
}

func (s *refusingStore) APIKey(context.Context, string, string) (*Principal, error) {
	s.lookups++
	return nil, Invalid("wrong secret")
}

func (s *refusingStore) User(context.Context, jwtauth.Claims) (*Principal, error) {
	return nil, Invalid("unused")
}

// blockAll is a FailureLimiter whose budget is spent.
type blockAll struct{ failed []string }

func (b *blockAll) Blocked(context.Context) (time.Duration, bool) {
	return 1500 * time.Millisecond, true
}
func (b *blockAll) Failed(_ context.Context, why string) { b.failed = append(b.failed, why) }

// budget is a FailureLimiter that records failures and blocks nothing.
type budget struct{ failed []string }

func (b *budget) Blocked(context.Context) (time.Duration, bool) { return 0, false }
func (b *budget) Failed(_ context.Context, why string)          { b.failed = append(b.failed, why) }

func serve(a *Authenticator, cred string) *httptest.ResponseRecorder {
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	r = r.WithContext(WithMeta(r.Context(), Meta{RequestID: "req-1", ClientAddr: "192.0.2.9"}))
	if cred != "" {
		r.Header.Set("Authorization", "Bearer "+cred)
	}
	w := httptest.NewRecorder()
	a.Middleware(next).ServeHTTP(w, r)
	return w
}

// Every reason a credential fails gets one answer; the log and the failure
// budget are told which reason it was.
func TestMiddleware_OneAnswerManyReasons(t *testing.T) {
	var logs bytes.Buffer
	failures := &budget{}
	store := &refusingStore{}
	a := &Authenticator{Store: store, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Failures: failures}
	apiKey, _, _ := token.Generate(APIKeyPrefix, "01HZZZZZZZZZZZZZZZZZZZZZZZ")
	opKey, _, _ := token.Generate(OperatorKeyPrefix, "01HZZZZZZZZZZZZZZZZZZZZZZZ")
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFAYi50ZXN0In0.c2lnbmF0dXJl"
	cases := map[string]string{
		apiKey:         "wrong secret",
		opKey:          "unknown operator key",
		jwt:            "jwt: no JWT verification configured",
		"gk_not-a-key": "malformed key or bad checksum",
		apiKey[:10]:    "malformed key or bad checksum",
	}
	var first *httptest.ResponseRecorder
	for cred, why := range cases {
		logs.Reset()
		w := serve(a, cred)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("%s: %d", why, w.Code)
		}
		if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="gatehouse", error="invalid_token", error_description="invalid, revoked or expired credentials"` {
			t.Errorf("%s: WWW-Authenticate %q", why, got)
		}
		if first == nil {
			first = w
		} else if w.Body.String() != first.Body.String() {
			t.Errorf("%s: body %s differs from %s", why, w.Body, first.Body)
		}
		var line map[string]any
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line["reason"] != why || line["level"] != "INFO" || line["client_addr"] != "192.0.2.9" {
			t.Errorf("%s: log %s", why, logs.String())
		}
		if strings.Contains(logs.String(), cred) {
			t.Errorf("%s: the credential is in the log", why)
		}
	}
	if len(failures.failed) != len(cases) {
		t.Errorf("failures spent: %v", failures.failed)
	}
}

// A client address whose failure budget is spent gets 429 before its
// credential is looked at; requests without credentials go on.
func TestMiddleware_BlockedAddressIsRefusedBeforeAnyLookup(t *testing.T) {
	store := &refusingStore{}
	a := &Authenticator{Store: store, Log: slog.New(slog.DiscardHandler), Failures: &blockAll{}}
	opKey, _, _ := token.Generate(OperatorKeyPrefix, "01HZZZZZZZZZZZZZZZZZZZZZZZ")
	w := serve(a, opKey)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" || !strings.Contains(w.Body.String(), "RATE_LIMITED") {
		t.Fatalf("blocked: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if store.lookups != 0 {
		t.Error("the credential was looked up")
	}
	if w := serve(a, ""); w.Code != http.StatusTeapot {
		t.Errorf("no credential: %d", w.Code)
	}
}

// A request without credentials that must have them is challenged without
// an error code (RFC 6750 §3.1); malformed ones with invalid_request.
func TestMiddleware_Challenges(t *testing.T) {
	w := httptest.NewRecorder()
	Unauthorized(w, "authentication required")
	if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="gatehouse"` {
		t.Errorf("bare challenge: %q", got)
	}
	a := &Authenticator{Store: &refusingStore{}, Log: slog.New(slog.DiscardHandler)}
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	w = httptest.NewRecorder()
	a.Middleware(http.NotFoundHandler()).ServeHTTP(w, r)
	if got := w.Header().Get("WWW-Authenticate"); w.Code != http.StatusUnauthorized || !strings.HasPrefix(got, `Bearer realm="gatehouse", error="invalid_request"`) {
		t.Errorf("Basic credentials: %d %q", w.Code, got)
	}
}

// sharedUserStore returns one principal for every token of a user, as the
// server's store does from its cache.
type sharedUserStore struct {
	refusingStore
	p *Principal
}

func (s *sharedUserStore) User(context.Context, jwtauth.Claims) (*Principal, error) { return s.p, nil }

// P3 and sessions: each request's principal carries its own token's expiry.
// Two tokens of one user, one expiring in a minute and one in a day: the
// first request's principal keeps its minute after the second request is
// authenticated (the store's shared principal was written in place, so a
// session opened with the short token would have lived as long as the
// other token — and the two requests raced on the write).
func TestP3_EachRequestKeepsItsOwnTokensExpiry(t *testing.T) {
	const secret = "an-hs256-secret-of-at-least-32-bytes!"
	v, err := jwtauth.New(context.Background(), jwtauth.Config{HS256Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	token := func(exp time.Time) string {
		tok, err := jwt.NewBuilder().Claim("email", "ana@example.test").Subject("u1").IssuedAt(time.Now()).Expiration(exp).Build()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256(), []byte(secret)))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	minute, day := time.Now().Add(time.Minute).Truncate(time.Second), time.Now().Add(24*time.Hour).Truncate(time.Second)
	shared := &Principal{Kind: User, ID: "usr_1", UserID: "usr_1", Email: "ana@example.test"}
	a := &Authenticator{Store: &sharedUserStore{p: shared}, JWT: v, Log: slog.New(slog.DiscardHandler)}
	short, err := a.authenticate(context.Background(), token(minute))
	if err != nil {
		t.Fatal(err)
	}
	long, err := a.authenticate(context.Background(), token(day))
	if err != nil {
		t.Fatal(err)
	}
	if !short.Expires.Equal(minute) || !long.Expires.Equal(day) {
		t.Fatalf("expiries: short token's principal %v (want %v), long token's %v (want %v)", short.Expires, minute, long.Expires, day)
	}
	if !shared.Expires.IsZero() {
		t.Fatalf("the store's shared principal was written: %v", shared.Expires)
	}
}
