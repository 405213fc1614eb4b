package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

const (
	secret   = "0123456789abcdef0123456789abcdef"
	issuer   = "https://idp.test"
	audience = "gatehouse"
)

// noAlg leaves a JWKS key's "alg" unset.
var noAlg jwa.SignatureAlgorithm

type edit func(*jwt.Builder) *jwt.Builder

// mint builds the claims of a valid token, applies edits and signs.
func mint(t *testing.T, sign func(jwt.Token) ([]byte, error), edits ...edit) string {
	t.Helper()
	b := jwt.NewBuilder().Issuer(issuer).Audience([]string{audience}).
		Claim("email", " Ana@Example.TEST ").Claim("name", " Ana ").Subject("u1").
		IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour))
	for _, e := range edits {
		b = e(b)
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

func signWith(alg jwa.SignatureAlgorithm, key any, kid string) func(jwt.Token) ([]byte, error) {
	return func(tok jwt.Token) ([]byte, error) {
		var opts []jwt.Option
		if kid != "" {
			hdr := jws.NewHeaders()
			_ = hdr.Set(jws.KeyIDKey, kid)
			opts = append(opts, jws.WithProtectedHeaders(hdr))
		}
		return jwt.Sign(tok, jwt.WithKey(alg, key, opts...))
	}
}

func hs(key string) func(jwt.Token) ([]byte, error) { return signWith(jwa.HS256(), []byte(key), "") }

// unsigned makes an alg=none token by hand.
func unsigned(t *testing.T, header string) string {
	t.Helper()
	tok, err := jwt.NewBuilder().Issuer(issuer).Audience([]string{audience}).Claim("email", "ana@example.test").
		IssuedAt(time.Now()).Expiration(time.Now().Add(time.Hour)).Build()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Sign(tok, jwt.WithInsecureNoSignature())
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		_, rest, _ := strings.Cut(string(raw), ".")
		return b64(header) + "." + rest
	}
	return string(raw)
}

func b64(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var out []byte
	src := []byte(s)
	for len(src) > 0 {
		var v [3]byte
		n := copy(v[:], src)
		src = src[n:]
		x := uint(v[0])<<16 | uint(v[1])<<8 | uint(v[2])
		out = append(out, enc[x>>18&63], enc[x>>12&63])
		if n > 1 {
			out = append(out, enc[x>>6&63])
		}
		if n > 2 {
			out = append(out, enc[x&63])
		}
	}
	return string(out)
}

func hsVerifier(t *testing.T) *Verifier {
	t.Helper()
	v, err := New(context.Background(), Config{HS256Secret: secret, Issuer: issuer, Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// refused checks that raw fails with ErrInvalid and the given reason, and
// that the error does not quote the token.
func refused(t *testing.T, v *Verifier, raw, reason string) {
	t.Helper()
	c, err := v.Verify(context.Background(), raw)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("want ErrInvalid (%s), got %+v, %v", reason, c, err)
	}
	if c != (Claims{}) {
		t.Errorf("claims returned with an error: %+v", c)
	}
	if reason != "" && err.Error() != "invalid token: "+reason {
		t.Errorf("error %q, want reason %q", err, reason)
	}
	for _, part := range strings.Split(raw, ".") {
		if len(part) > 8 && strings.Contains(err.Error(), part) {
			t.Errorf("error %q quotes the token", err)
		}
	}
}

func TestP3_HS256Valid(t *testing.T) {
	v := hsVerifier(t)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	c, err := v.Verify(context.Background(), mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder { return b.Expiration(exp) }))
	if err != nil {
		t.Fatal(err)
	}
	if c.Email != "ana@example.test" || c.Name != "Ana" || c.Subject != "u1" || !c.ExpiresAt.Equal(exp) {
		t.Fatalf("claims %+v", c)
	}
	// name and sub are optional.
	c, err = v.Verify(context.Background(), mint(t, hs(secret), func(*jwt.Builder) *jwt.Builder {
		return jwt.NewBuilder().Issuer(issuer).Audience([]string{audience}).Claim("email", "bo@example.test").
			Expiration(time.Now().Add(time.Minute))
	}))
	if err != nil || c.Email != "bo@example.test" || c.Name != "" || c.Subject != "" {
		t.Fatalf("minimal token: %+v, %v", c, err)
	}
}

func TestP3_HS256WrongSecret(t *testing.T) {
	refused(t, hsVerifier(t), mint(t, hs("another-secret-another-secret-xx")), "bad signature")
}

func TestP3_HS256OnlyHS256(t *testing.T) {
	v := hsVerifier(t)
	// The right secret under another HMAC algorithm is still refused.
	refused(t, v, mint(t, signWith(jwa.HS384(), []byte(secret), "")), "algorithm not allowed")
	refused(t, v, mint(t, signWith(jwa.HS512(), []byte(secret), "")), "algorithm not allowed")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	refused(t, v, mint(t, signWith(jwa.RS256(), rsaKey, "")), "algorithm not allowed")
}

func TestP3_Expired(t *testing.T) {
	v := hsVerifier(t)
	refused(t, v, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder {
		return b.IssuedAt(time.Now().Add(-2 * time.Hour)).Expiration(time.Now().Add(-time.Minute))
	}), "expired")
	// Within the default 30s leeway.
	if _, err := v.Verify(context.Background(), mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder {
		return b.Expiration(time.Now().Add(-10 * time.Second))
	})); err != nil {
		t.Fatalf("expired 10s ago, within the leeway: %v", err)
	}
	// A configured leeway replaces the default.
	strict, _ := New(context.Background(), Config{HS256Secret: secret, Leeway: -1})
	refused(t, strict, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder {
		return b.Expiration(time.Now().Add(-2 * time.Second))
	}), "expired")
	// A token that never expires is refused.
	refused(t, v, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder {
		return jwt.NewBuilder().Issuer(issuer).Audience([]string{audience}).Claim("email", "ana@example.test")
	}), "missing required claim")
}

func TestP3_NotYetValid(t *testing.T) {
	v := hsVerifier(t)
	refused(t, v, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder { return b.NotBefore(time.Now().Add(time.Hour)) }), "not yet valid")
	refused(t, v, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder { return b.IssuedAt(time.Now().Add(time.Hour)) }), "issued in the future")
	if _, err := v.Verify(context.Background(), mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder {
		return b.NotBefore(time.Now().Add(10 * time.Second)).IssuedAt(time.Now().Add(10 * time.Second))
	})); err != nil {
		t.Fatalf("nbf and iat 10s ahead, within the leeway: %v", err)
	}
}

func TestP3_WrongIssuer(t *testing.T) {
	v := hsVerifier(t)
	refused(t, v, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder { return b.Issuer("https://evil.test") }), "wrong issuer")
	refused(t, v, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder {
		return jwt.NewBuilder().Audience([]string{audience}).Claim("email", "a@b.test").Expiration(time.Now().Add(time.Hour))
	}), "")
}

func TestP3_WrongAudience(t *testing.T) {
	v := hsVerifier(t)
	refused(t, v, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder { return b.Audience([]string{"other"}) }), "wrong audience")
	refused(t, v, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder {
		return jwt.NewBuilder().Issuer(issuer).Claim("email", "a@b.test").Expiration(time.Now().Add(time.Hour))
	}), "")
	// One of several audiences is enough.
	if _, err := v.Verify(context.Background(), mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder {
		return b.Audience([]string{"other", audience})
	})); err != nil {
		t.Fatal(err)
	}
}

func TestP3_IssuerAndAudienceOnlyWhenConfigured(t *testing.T) {
	v, err := New(context.Background(), Config{HS256Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder {
		return b.Issuer("anyone").Audience([]string{"anything"})
	})); err != nil {
		t.Fatal(err)
	}
}

func TestP3_MissingEmail(t *testing.T) {
	v := hsVerifier(t)
	without := func(b *jwt.Builder) *jwt.Builder {
		return jwt.NewBuilder().Issuer(issuer).Audience([]string{audience}).Subject("u1").Expiration(time.Now().Add(time.Hour))
	}
	refused(t, v, mint(t, hs(secret), without), "no email claim")
	for name, value := range map[string]any{
		"empty": "", "blank": "  ", "number": 42, "list": []string{"a@b.test"}, "no @": "ana",
		"two @": "a@b@c.test", "space": "ana smith@example.test", "display name": "Ana <ana@example.test>",
	} {
		t.Run(name, func(t *testing.T) {
			refused(t, v, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder { return b.Claim("email", value) }), "")
		})
	}
	refused(t, v, mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder { return b.Claim("email_verified", false) }), "email not verified")
	if _, err := v.Verify(context.Background(), mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder { return b.Claim("email_verified", true) })); err != nil {
		t.Fatal(err)
	}
}

func TestP3_AlgNone(t *testing.T) {
	j := newJWKS(t)
	j.add(t, "k1", jwa.RS256())
	for name, v := range map[string]*Verifier{"HS256": hsVerifier(t), "JWKS": j.verifier(t, Config{})} {
		t.Run(name, func(t *testing.T) {
			refused(t, v, unsigned(t, ""), "")
			refused(t, v, unsigned(t, `{"alg":"none","kid":"k1"}`), "")
			refused(t, v, unsigned(t, `{"alg":"None"}`), "")
			refused(t, v, unsigned(t, `{"typ":"JWT"}`), "")
			// alg none with a signature glued on.
			refused(t, v, unsigned(t, `{"alg":"none"}`)+"c2ln", "")
		})
	}
}

// RFC 7515 §4.1.11: a "crit" extension the verifier does not understand
// (it understands none) makes an otherwise valid token invalid.
func TestP3_CriticalHeaderRefused(t *testing.T) {
	j := newJWKS(t)
	k := j.add(t, "k1", jwa.RS256())
	withCrit := func(alg jwa.SignatureAlgorithm, key any, kid string) func(jwt.Token) ([]byte, error) {
		return func(tok jwt.Token) ([]byte, error) {
			hdr := jws.NewHeaders()
			if kid != "" {
				_ = hdr.Set(jws.KeyIDKey, kid)
			}
			_ = hdr.Set("https://idp.test/must-check", true)
			_ = hdr.Set(jws.CriticalKey, []string{"https://idp.test/must-check"})
			return jwt.Sign(tok, jwt.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
		}
	}
	refused(t, hsVerifier(t), mint(t, withCrit(jwa.HS256(), []byte(secret), "")), "unsupported critical header")
	v := j.verifier(t, Config{})
	refused(t, v, mint(t, withCrit(jwa.RS256(), k, "k1")), "unsupported critical header")
	// The same token without crit passes.
	if _, err := v.Verify(context.Background(), mint(t, signWith(jwa.RS256(), k, "k1"))); err != nil {
		t.Fatal(err)
	}
}

// Algorithm confusion: an attacker signs an HS256 token using the public key
// (which anyone can fetch from the JWKS) as the HMAC secret, hoping the
// verifier uses the key's bytes as a secret.
func TestP3_AlgConfusionHS256WithPublicKey(t *testing.T) {
	j := newJWKS(t)
	k := j.add(t, "k1", noAlg) // no alg in the JWKS: the verifier must not infer HS256
	j.add(t, "k2", jwa.RS256())
	v := j.verifier(t, Config{})
	pub := &k.PublicKey
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)})
	jwkPub, _ := jwk.Import(pub)
	_ = jwkPub.Set(jwk.KeyIDKey, "k1")
	jwkJSON, _ := json.Marshal(jwkPub)
	for _, kid := range []string{"k1", "k2", ""} {
		for _, keyBytes := range [][]byte{pemBytes, pkcs1, der, jwkJSON, pub.N.Bytes()} {
			for _, alg := range []jwa.SignatureAlgorithm{jwa.HS256(), jwa.HS384(), jwa.HS512()} {
				refused(t, v, mint(t, signWith(alg, keyBytes, kid)), "algorithm not allowed")
			}
		}
	}
	// And the honest token with the same key passes.
	if _, err := v.Verify(context.Background(), mint(t, signWith(jwa.RS256(), k, "k1"))); err != nil {
		t.Fatal(err)
	}
}

func TestP3_RS256ViaJWKS(t *testing.T) {
	j := newJWKS(t)
	k := j.add(t, "k1", jwa.RS256())
	v := j.verifier(t, Config{Issuer: issuer, Audience: audience})
	c, err := v.Verify(context.Background(), mint(t, signWith(jwa.RS256(), k, "k1")))
	if err != nil || c.Email != "ana@example.test" || c.Subject != "u1" {
		t.Fatalf("RS256 via JWKS: %+v, %v", c, err)
	}
	// No kid: every key of the set is tried.
	if _, err := v.Verify(context.Background(), mint(t, signWith(jwa.RS256(), k, ""))); err != nil {
		t.Fatalf("RS256 without kid: %v", err)
	}
	// The key's alg is pinned: PS256 with the same RSA key is refused.
	refused(t, v, mint(t, signWith(jwa.PS256(), k, "k1")), "algorithm not allowed")
	// Claims are checked as with HS256.
	refused(t, v, mint(t, signWith(jwa.RS256(), k, "k1"), func(b *jwt.Builder) *jwt.Builder {
		return b.Expiration(time.Now().Add(-time.Hour))
	}), "expired")
	refused(t, v, mint(t, signWith(jwa.RS256(), k, "k1"), func(b *jwt.Builder) *jwt.Builder { return b.Audience([]string{"x"}) }), "wrong audience")
	// A key of another party under a known kid fails the signature.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	refused(t, v, mint(t, signWith(jwa.RS256(), other, "k1")), "bad signature")
	// Payload tampering breaks the signature.
	raw := mint(t, signWith(jwa.RS256(), k, "k1"))
	parts := strings.Split(raw, ".")
	parts[1] = b64(`{"email":"eve@example.test","exp":9999999999}`)
	refused(t, v, strings.Join(parts, "."), "bad signature")
}

func TestP3_ECAndEdDSAViaJWKS(t *testing.T) {
	j := newJWKS(t)
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsaNoAlg := j.add(t, "rsa", noAlg)
	j.addRaw(t, "es256", ec256, noAlg)
	j.addRaw(t, "es384", ec384, jwa.ES384())
	j.addRaw(t, "ed", ed, noAlg)
	v := j.verifier(t, Config{})
	for name, raw := range map[string]string{
		"ES256": mint(t, signWith(jwa.ES256(), ec256, "es256")),
		"ES384": mint(t, signWith(jwa.ES384(), ec384, "es384")),
		"EdDSA": mint(t, signWith(jwa.EdDSA(), ed, "ed")),
		"RS512": mint(t, signWith(jwa.RS512(), rsaNoAlg, "rsa")),
		"PS256": mint(t, signWith(jwa.PS256(), rsaNoAlg, "rsa")),
	} {
		if _, err := v.Verify(context.Background(), raw); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The curve decides the algorithm.
	refused(t, v, mint(t, signWith(jwa.ES384(), ec256, "es256")), "")
	// An EC token naming the RSA key.
	refused(t, v, mint(t, signWith(jwa.ES256(), ec256, "rsa")), "algorithm not allowed")
}

func TestP3_JWKSDropsSymmetricAndWeakKeys(t *testing.T) {
	j := newJWKS(t)
	j.add(t, "good", jwa.RS256())
	oct, _ := jwk.Import([]byte(secret))
	_ = oct.Set(jwk.KeyIDKey, "oct")
	_ = oct.Set(jwk.AlgorithmKey, jwa.HS256())
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	enc, _ := rsa.GenerateKey(rand.Reader, 2048)
	j.mu.Lock()
	j.extra = []jwk.Key{oct, mustImport(t, &enc.PublicKey, "enc", noAlg)}
	_ = j.extra[1].Set(jwk.KeyUsageKey, "enc")
	// jwx refuses to import a 1024-bit key; publish it by hand.
	j.extraJSON = []string{`{"kty":"RSA","kid":"weak","e":"AQAB","n":"` + b64(string(weak.N.Bytes())) + `"}`,
		`{"kty":"XYZ","kid":"alien"}`}
	j.mu.Unlock()
	v := j.verifier(t, Config{})
	refused(t, v, mint(t, signWith(jwa.HS256(), []byte(secret), "oct")), "algorithm not allowed")
	refused(t, v, mint(t, signWith(jwa.RS256(), weak, "weak")), "unknown signing key")
	refused(t, v, mint(t, signWith(jwa.RS256(), enc, "enc")), "unknown signing key")
}

func TestP3_KeyRotation(t *testing.T) {
	j := newJWKS(t)
	k1 := j.add(t, "k1", jwa.RS256())
	v := j.verifier(t, Config{MinRefresh: 100 * time.Millisecond})
	if _, err := v.Verify(context.Background(), mint(t, signWith(jwa.RS256(), k1, "k1"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	// The IdP publishes k2 next to k1 and starts signing with it.
	k2 := j.add(t, "k2", jwa.RS256())
	before := j.hits.Load()
	// Requests arriving while the new JWKS is being fetched wait for it
	// rather than fail.
	j.delay.Store(int64(100 * time.Millisecond))
	raw := mint(t, signWith(jwa.RS256(), k2, "k2"))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), raw); err != nil {
				t.Errorf("rotated key: %v", err)
			}
		})
	}
	wg.Wait()
	j.delay.Store(0)
	if n := j.hits.Load() - before; n != 1 {
		t.Fatalf("%d fetches for one new kid, want 1", n)
	}
	// Both keys work now without further fetches.
	for range 10 {
		for kid, k := range map[string]*rsa.PrivateKey{"k1": k1, "k2": k2} {
			if _, err := v.Verify(context.Background(), mint(t, signWith(jwa.RS256(), k, kid))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := j.hits.Load() - before; n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
}

func TestP3_WithdrawnKeyStopsWorking(t *testing.T) {
	j := newJWKS(t)
	k1 := j.add(t, "k1", jwa.RS256())
	v := j.verifier(t, Config{MinRefresh: 50 * time.Millisecond, MaxKeyAge: 100 * time.Millisecond})
	old := mint(t, signWith(jwa.RS256(), k1, "k1"))
	j.remove("k1")
	j.add(t, "k2", jwa.RS256())
	time.Sleep(150 * time.Millisecond)
	// The stale set still answers (a slow or failing IdP does not block
	// requests) and is refreshed in the background...
	before := j.hits.Load()
	_, _ = v.Verify(context.Background(), old)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := v.Verify(context.Background(), old); errors.Is(err, ErrInvalid) {
			break // ...after which the withdrawn key is refused.
		}
		if time.Now().After(deadline) {
			t.Fatal("a withdrawn key still verifies")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if j.hits.Load() == before {
		t.Fatal("no refresh")
	}
}

func TestP3_StaleKeysKeptWhileIdPFails(t *testing.T) {
	j := newJWKS(t)
	k1 := j.add(t, "k1", jwa.RS256())
	v := j.verifier(t, Config{MinRefresh: 20 * time.Millisecond, MaxKeyAge: 20 * time.Millisecond})
	j.fail.Store(true)
	raw := mint(t, signWith(jwa.RS256(), k1, "k1"))
	for range 5 {
		time.Sleep(30 * time.Millisecond)
		if _, err := v.Verify(context.Background(), raw); err != nil {
			t.Fatalf("keys dropped while the IdP fails: %v", err)
		}
	}
}

func TestP3_UnknownKidFloodIsRateLimited(t *testing.T) {
	j := newJWKS(t)
	j.add(t, "k1", jwa.RS256())
	const minRefresh = time.Minute
	v := j.verifier(t, Config{MinRefresh: minRefresh})
	// The cache's clock is frozen just after New's fetch and moved by hand,
	// so that the test does not depend on how fast this machine signs
	// tokens or runs the floods.
	base := time.Now()
	var offset atomic.Int64
	v.keys.now = func() time.Time { return base.Add(time.Duration(offset.Load())) }
	advance := func(d time.Duration) { offset.Add(int64(d)) }

	stranger, _ := rsa.GenerateKey(rand.Reader, 2048)
	tokens := make([]string, 100)
	for i := range tokens {
		tokens[i] = mint(t, signWith(jwa.RS256(), stranger, fmt.Sprintf("evil-%d", i)))
	}
	flood := func() {
		var wg sync.WaitGroup
		for _, raw := range tokens {
			wg.Go(func() {
				if _, err := v.Verify(context.Background(), raw); !errors.Is(err, ErrInvalid) ||
					!strings.HasSuffix(err.Error(), "unknown signing key") {
					t.Errorf("unknown kid: %v", err)
				}
			})
		}
		wg.Wait()
	}
	expect := func(what string, start, want int64) {
		t.Helper()
		if n := j.hits.Load() - start; n != want {
			t.Fatalf("%s: %d JWKS fetches, want %d", what, n, want)
		}
	}

	start := j.hits.Load()
	flood()
	flood()
	expect("within MinRefresh of New's fetch", start, 0)

	advance(minRefresh - time.Second)
	flood()
	expect("1s before MinRefresh has passed", start, 0)

	for period := int64(1); period <= 5; period++ {
		advance(minRefresh)
		flood()
		flood()
		flood()
		expect(fmt.Sprintf("after %d intervals", period), start, period)
	}
}

func TestP3_NewConfig(t *testing.T) {
	ctx := context.Background()
	j := newJWKS(t)
	j.add(t, "k1", jwa.RS256())
	for name, cfg := range map[string]Config{
		"neither":              {},
		"both":                 {HS256Secret: secret, JWKSURL: j.srv.URL},
		"short secret":         {HS256Secret: "short"},
		"plain http elsewhere": {JWKSURL: "http://idp.example.com/jwks.json"},
		"not a URL":            {JWKSURL: "idp/jwks.json"},
		"ftp":                  {JWKSURL: "ftp://127.0.0.1/jwks"},
		"unreachable":          {JWKSURL: "http://127.0.0.1:1/jwks"},
		"404":                  {JWKSURL: j.srv.URL + "/missing"},
	} {
		if _, err := New(ctx, cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	// A JWKS without any usable key is refused at start.
	empty := newJWKS(t)
	oct, _ := jwk.Import([]byte(secret))
	empty.extra = []jwk.Key{oct}
	if _, err := New(ctx, Config{JWKSURL: empty.srv.URL}); err == nil {
		t.Error("a JWKS of symmetric keys only was accepted")
	}
	if err := checkJWKSURL("http://keycloak:8080/certs", true); err != nil {
		t.Errorf("AllowInsecureJWKS: %v", err)
	}
	if err := checkJWKSURL("https://idp.example.com/.well-known/jwks.json", false); err != nil {
		t.Error(err)
	}
}

func TestP3_Malformed(t *testing.T) {
	v := hsVerifier(t)
	good := mint(t, hs(secret))
	for _, raw := range []string{"", "a.b", good + ".x", "a.b.c", strings.Repeat("a", maxTokenBytes+1) + ".b.c",
		"!!!.e30.sig", good[:len(good)-2], "gk_01JD3V8Q7X9K2M4N6P8R0T2V4W_abc"} {
		refused(t, v, raw, "")
	}
}

// Found by FuzzP3_HS256Verify: jwx reads the first JSON object of the
// header and the claims and ignores what follows, so a correctly signed
// `{…}0` verified. Both must be exactly one JSON object in UTF-8.
func TestP3_HeaderAndClaimsAreExactlyOneJSONObject(t *testing.T) {
	v := hsVerifier(t)
	claims := fmt.Sprintf(`{"iss":%q,"aud":%q,"email":"ana@example.test","exp":%d}`, issuer, audience, time.Now().Add(time.Hour).Unix())
	if _, err := v.Verify(context.Background(), buildToken(`{"alg":"HS256"}`, claims, signRight, "")); err != nil {
		t.Fatalf("the well-formed token: %v", err)
	}
	for _, c := range [][2]string{
		{`{"alg":"HS256"}`, claims + "0"},
		{`{"alg":"HS256"}`, claims + "}"},
		{`{"alg":"HS256"}`, claims + `{"email":"bo@example.test"}`},
		{`{"alg":"HS256"}0`, claims},
		{`{"alg":"HS256"} {}`, claims},
		{`{"alg":"HS256"}`, strings.Replace(claims, "ana", "an\xffa", 1)},
	} {
		refused(t, v, buildToken(c[0], c[1], signRight, ""), "malformed")
	}
}

func TestP3_LooksLikeJWT(t *testing.T) {
	for s, want := range map[string]bool{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig": true,
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.":     true, // unsigned: still routed to (and refused by) JWT checks
		"gk_01JD3V8Q7X9K2M4N6P8R0T2V4W_abc":        false,
		"a.b":                                      false,
		"a.b.c.d.e":                                false, // JWE
		"a.b.c d":                                  false,
		"a+b.c.d":                                  false,
		".b.c":                                     false,
		"":                                         false,
	} {
		if LooksLikeJWT(s) != want {
			t.Errorf("LooksLikeJWT(%q) != %v", s, want)
		}
	}
}

// jwks is an identity provider on 127.0.0.1 that serves the public halves
// of its keys and counts fetches.
type jwks struct {
	mu    sync.Mutex
	keys  []jwk.Key
	extra []jwk.Key // served as is
	// extraJSON are JWK objects served as is
	extraJSON []string
	hits      atomic.Int64
	fail      atomic.Bool
	delay     atomic.Int64 // time.Duration each fetch waits
	srv       *httptest.Server
}

func newJWKS(t *testing.T) *jwks {
	t.Helper()
	j := &jwks{}
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.hits.Add(1)
		time.Sleep(time.Duration(j.delay.Load()))
		if r.URL.Path != "/" || j.fail.Load() {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		set := jwk.NewSet()
		for _, k := range j.keys {
			pub, err := k.PublicKey()
			if err != nil {
				t.Error(err)
			}
			_ = set.AddKey(pub)
		}
		for _, k := range j.extra {
			_ = set.AddKey(k)
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		doc, _ := json.Marshal(set)
		if len(j.extraJSON) > 0 {
			doc = append(doc[:len(doc)-2], []byte(","+strings.Join(j.extraJSON, ",")+"]}")...)
		}
		_, _ = w.Write(doc)
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func mustImport(t *testing.T, raw any, kid string, alg jwa.SignatureAlgorithm) jwk.Key {
	t.Helper()
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	_ = k.Set(jwk.KeyIDKey, kid)
	if alg != noAlg {
		_ = k.Set(jwk.AlgorithmKey, alg)
	}
	return k
}

// add publishes a new RSA key (alg may be the zero value: not stated).
func (j *jwks) add(t *testing.T, kid string, alg jwa.SignatureAlgorithm) *rsa.PrivateKey {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	j.addRaw(t, kid, raw, alg)
	return raw
}

func (j *jwks) addRaw(t *testing.T, kid string, raw any, alg jwa.SignatureAlgorithm) {
	t.Helper()
	k := mustImport(t, raw, kid, alg)
	j.mu.Lock()
	j.keys = append(j.keys, k)
	j.mu.Unlock()
}

func (j *jwks) remove(kid string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var keep []jwk.Key
	for _, k := range j.keys {
		if id, _ := k.KeyID(); id != kid {
			keep = append(keep, k)
		}
	}
	j.keys = keep
}

func (j *jwks) verifier(t *testing.T, cfg Config) *Verifier {
	t.Helper()
	cfg.JWKSURL = j.srv.URL + "/"
	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
