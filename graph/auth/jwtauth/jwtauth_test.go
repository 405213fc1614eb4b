package jwtauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

const secret = "0123456789abcdef0123456789abcdef"

func token(t *testing.T, sign func(jwt.Token) ([]byte, error), edit func(*jwt.Builder) *jwt.Builder) string {
	t.Helper()
	b := jwt.NewBuilder().Issuer("https://idp.test").Audience([]string{"gatehouse"}).
		Claim("email", " Ana@Example.TEST ").Claim("name", "Ana").Subject("u1").
		IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour))
	if edit != nil {
		b = edit(b)
	}
	tok, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sign(tok)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func hs(key []byte) func(jwt.Token) ([]byte, error) {
	return func(tok jwt.Token) ([]byte, error) { return jwt.Sign(tok, jwt.WithKey(jwa.HS256(), key)) }
}

func TestP3_HS256(t *testing.T) {
	ctx := context.Background()
	v, err := New(ctx, Config{HS256Secret: secret, Issuer: "https://idp.test", Audience: "gatehouse"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(ctx, token(t, hs([]byte(secret)), nil))
	if err != nil || c.Email != "ana@example.test" || c.Name != "Ana" || c.Subject != "u1" {
		t.Fatalf("valid token: %+v, %v", c, err)
	}
	bad := map[string]string{
		"wrong secret":    token(t, hs([]byte("another-secret-another-secret-xx")), nil),
		"expired":         token(t, hs([]byte(secret)), func(b *jwt.Builder) *jwt.Builder { return b.Expiration(time.Now().Add(-time.Minute)) }),
		"not yet valid":   token(t, hs([]byte(secret)), func(b *jwt.Builder) *jwt.Builder { return b.NotBefore(time.Now().Add(time.Hour)) }),
		"wrong issuer":    token(t, hs([]byte(secret)), func(b *jwt.Builder) *jwt.Builder { return b.Issuer("https://evil.test") }),
		"wrong audience":  token(t, hs([]byte(secret)), func(b *jwt.Builder) *jwt.Builder { return b.Audience([]string{"other"}) }),
		"no email":        token(t, hs([]byte(secret)), func(b *jwt.Builder) *jwt.Builder { return b.Claim("email", "") }),
		"unsigned (none)": token(t, func(tok jwt.Token) ([]byte, error) { return jwt.Sign(tok, jwt.WithInsecureNoSignature()) }, nil),
	}
	for name, raw := range bad {
		if _, err := v.Verify(ctx, raw); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: want ErrInvalid, got %v", name, err)
		}
	}
	if _, err := New(ctx, Config{}); err == nil {
		t.Error("a verifier needs a secret or a JWKS URL")
	}
	if _, err := New(ctx, Config{HS256Secret: "short"}); err == nil {
		t.Error("short HS256 secrets are refused")
	}
}

// jwks serves the public halves of keys and counts fetches.
type jwks struct {
	mu    sync.Mutex
	keys  []jwk.Key
	hits  atomic.Int64
	serve *httptest.Server
}

func newJWKS(t *testing.T) *jwks {
	j := &jwks{}
	j.serve = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		j.hits.Add(1)
		j.mu.Lock()
		defer j.mu.Unlock()
		set := jwk.NewSet()
		for _, k := range j.keys {
			pub, _ := k.PublicKey()
			_ = set.AddKey(pub)
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(j.serve.Close)
	return j
}

func (j *jwks) rotate(t *testing.T, kid string) jwk.Key {
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	_ = k.Set(jwk.AlgorithmKey, jwa.RS256())
	j.mu.Lock()
	j.keys = []jwk.Key{k}
	j.mu.Unlock()
	return k
}

func rs(k jwk.Key) func(jwt.Token) ([]byte, error) {
	return func(tok jwt.Token) ([]byte, error) { return jwt.Sign(tok, jwt.WithKey(jwa.RS256(), k)) }
}

func TestP3_JWKS(t *testing.T) {
	ctx := context.Background()
	j := newJWKS(t)
	k1 := j.rotate(t, "k1")
	v, err := New(ctx, Config{JWKSURL: j.serve.URL, Audience: "gatehouse", MinRefresh: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := v.Verify(ctx, token(t, rs(k1), nil)); err != nil || c.Email != "ana@example.test" {
		t.Fatalf("RS256 via JWKS: %v", err)
	}

	// Algorithm confusion: an HS256 token keyed with the public key's bytes.
	pub, _ := k1.PublicKey()
	pubJSON, _ := json.Marshal(pub)
	forged := token(t, hs(pubJSON), func(b *jwt.Builder) *jwt.Builder { return b })
	if _, err := v.Verify(ctx, forged); !errors.Is(err, ErrInvalid) {
		t.Fatal("an HS256 token verified against a public key")
	}

	// Rotation: a token signed with a new key is accepted after a refresh.
	time.Sleep(250 * time.Millisecond)
	k2 := j.rotate(t, "k2")
	if _, err := v.Verify(ctx, token(t, rs(k2), nil)); err != nil {
		t.Fatalf("rotated key: %v", err)
	}

	// A flood of unknown key ids does not refetch more than once per MinRefresh.
	stranger := newJWKS(t).rotate(t, "evil")
	before := j.hits.Load()
	for range 50 {
		raw := token(t, func(tok jwt.Token) ([]byte, error) {
			hdr := jws.NewHeaders()
			_ = hdr.Set(jws.KeyIDKey, "evil")
			return jwt.Sign(tok, jwt.WithKey(jwa.RS256(), stranger, jws.WithProtectedHeaders(hdr)))
		}, nil)
		if _, err := v.Verify(ctx, raw); !errors.Is(err, ErrInvalid) {
			t.Fatal("a token of an unknown key verified")
		}
	}
	if n := j.hits.Load() - before; n > 1 {
		t.Fatalf("%d JWKS fetches for a flood of unknown keys; want at most 1", n)
	}
}

func TestP3_LooksLikeJWT(t *testing.T) {
	for s, want := range map[string]bool{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig": true,
		"gk_01JD3V8Q7X9K2M4N6P8R0T2V4W_abc":        false,
		"a.b":                                      false,
		"a.b.c d":                                  false,
	} {
		if LooksLikeJWT(s) != want {
			t.Errorf("LooksLikeJWT(%q) != %v", s, want)
		}
	}
}
