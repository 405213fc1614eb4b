// Package jwtauth validates dashboard users' JWTs (P3): signed with an HS256
// shared secret (simple setups, tests) or by keys published at a JWKS URL,
// with the configured issuer and audience enforced. The `email` claim names
// the user.
package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// ErrInvalid is wrapped by every verification failure.
var ErrInvalid = errors.New("invalid token")

// Config says how tokens are checked. Exactly one of HS256Secret and JWKSURL
// is set.
type Config struct {
	HS256Secret string
	JWKSURL     string
	Issuer      string
	Audience    string
	// Leeway is the clock skew allowed on exp, nbf and iat (default 30s).
	Leeway time.Duration
	// MinRefresh is the least time between two JWKS fetches (default 30s), so
	// that a flood of unknown key ids cannot hammer the identity provider.
	MinRefresh time.Duration
	HTTPClient *http.Client
}

// Claims are what Gatehouse reads from a valid token.
type Claims struct {
	Email, Name, Subject string
	ExpiresAt            time.Time
}

// Verifier checks tokens; it is safe for concurrent use.
type Verifier struct {
	cfg     Config
	mu      sync.Mutex
	set     jwk.Set
	fetched time.Time
}

// New returns a Verifier; with a JWKS URL it fetches the keys once now.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if (cfg.HS256Secret == "") == (cfg.JWKSURL == "") {
		return nil, errors.New("jwtauth: set exactly one of an HS256 secret and a JWKS URL")
	}
	if cfg.HS256Secret != "" && len(cfg.HS256Secret) < 32 {
		return nil, errors.New("jwtauth: the HS256 secret must be at least 32 bytes")
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.MinRefresh == 0 {
		cfg.MinRefresh = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	v := &Verifier{cfg: cfg}
	if cfg.JWKSURL != "" {
		if _, err := v.refresh(ctx, true); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// LooksLikeJWT reports whether s has a JWT's shape: three base64url parts.
func LooksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, p := range parts {
		if strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			return false
		}
	}
	return true
}

// Verify checks raw and returns its claims.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	opts := []jwt.ParseOption{
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(v.cfg.Leeway),
	}
	if v.cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.cfg.Issuer))
	}
	if v.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.cfg.Audience))
	}
	var tok jwt.Token
	var err error
	if v.cfg.HS256Secret != "" {
		tok, err = jwt.Parse([]byte(raw), append(opts, jwt.WithKey(jwa.HS256(), []byte(v.cfg.HS256Secret)))...)
	} else {
		tok, err = v.parseWithKeys(ctx, raw, opts)
	}
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %s", ErrInvalid, short(err))
	}
	var c Claims
	if err := tok.Get("email", &c.Email); err != nil {
		return Claims{}, fmt.Errorf("%w: no email claim", ErrInvalid)
	}
	c.Email = strings.ToLower(strings.TrimSpace(c.Email))
	if c.Email == "" || !strings.Contains(c.Email, "@") {
		return Claims{}, fmt.Errorf("%w: bad email claim", ErrInvalid)
	}
	_ = tok.Get("name", &c.Name)
	c.Subject, _ = tok.Subject()
	c.ExpiresAt, _ = tok.Expiration()
	return c, nil
}

// parseWithKeys verifies against the JWKS; on failure it refetches the keys
// once (the IdP may have rotated them) when MinRefresh allows.
func (v *Verifier) parseWithKeys(ctx context.Context, raw string, opts []jwt.ParseOption) (jwt.Token, error) {
	v.mu.Lock()
	set := v.set
	v.mu.Unlock()
	parse := func(set jwk.Set) (jwt.Token, error) {
		// Algorithms come from the keys (RSA → RS/PS, EC → ES, OKP → EdDSA):
		// never `none`, never HMAC with a public key.
		return jwt.Parse([]byte(raw), append(opts, jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true), jws.WithRequireKid(false)))...)
	}
	tok, err := parse(set)
	if err == nil {
		return tok, nil
	}
	fresh, rerr := v.refresh(ctx, false)
	if rerr != nil || fresh == nil {
		return nil, err
	}
	return parse(fresh)
}

// refresh fetches the JWKS unless it was fetched less than MinRefresh ago;
// it returns the new set, or nil when it did not fetch.
func (v *Verifier) refresh(ctx context.Context, force bool) (jwk.Set, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !force && time.Since(v.fetched) < v.cfg.MinRefresh {
		return nil, nil
	}
	v.fetched = time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	res, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: fetch JWKS: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwtauth: fetch JWKS: HTTP %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: parse JWKS: %w", err)
	}
	v.set = set
	return set, nil
}

// short keeps the first line of a parse error: safe to log, never the token.
func short(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}
