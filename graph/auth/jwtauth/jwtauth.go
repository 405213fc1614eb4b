// Package jwtauth validates dashboard users' JWTs (P3): signed with an HS256
// shared secret (simple setups, tests) or by keys published at a JWKS URL
// (RS256/384/512, PS256/384/512, ES256/384/512, EdDSA), with the configured
// issuer and audience enforced and exp/nbf/iat checked with a leeway. The
// `email` claim names the user.
//
// Algorithms are pinned: an HS256 verifier accepts only HS256; a JWKS
// verifier accepts only the asymmetric algorithm of the key the token names,
// so `none` and HS256-keyed-with-a-public-key ("algorithm confusion") tokens
// are refused. Tokens with a "crit" header are refused (RFC 7515 §4.1.11:
// no extension is understood).
package jwtauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// ErrInvalid is wrapped by every verification failure. The message adds a
// short reason that is safe to log and to show; it never contains the token.
var ErrInvalid = errors.New("invalid token")

// Defaults of Config's durations.
const (
	DefaultLeeway     = 30 * time.Second
	DefaultMinRefresh = 30 * time.Second
	DefaultMaxKeyAge  = time.Hour
)

// maxTokenBytes bounds the work spent on a token before any check.
const maxTokenBytes = 32 << 10

// minHS256SecretLen is the key size RFC 7518 §3.2 requires for HS256.
const minHS256SecretLen = 32

// Config says how tokens are checked. Exactly one of HS256Secret and JWKSURL
// is set.
type Config struct {
	// HS256Secret is a shared secret of at least 32 bytes.
	HS256Secret string
	// JWKSURL is the identity provider's key set. It must be https, except
	// on loopback hosts (tests) or with AllowInsecureJWKS.
	JWKSURL string
	// Issuer and Audience, when set, must match the iss and aud claims.
	Issuer, Audience string
	// Leeway is the clock skew allowed on exp, nbf and iat (default 30s;
	// negative means none).
	Leeway time.Duration
	// HTTPClient fetches the JWKS (default: a client with a 10s timeout).
	HTTPClient *http.Client

	// MinRefresh is the least time between two JWKS fetches (default 30s),
	// so that a flood of tokens naming unknown key ids cannot hammer the
	// identity provider.
	MinRefresh time.Duration
	// MaxKeyAge is how long fetched keys are used before the JWKS is fetched
	// again in the background (default 1h), so that keys the identity
	// provider withdraws stop working. If that fetch fails, the keys in hand
	// are kept.
	MaxKeyAge time.Duration
	// AllowInsecureJWKS allows an http:// JWKS URL on a non-loopback host
	// (e.g. a Keycloak container in a development setup).
	AllowInsecureJWKS bool
}

// Claims are what Gatehouse reads from a valid token.
type Claims struct {
	// Email is the email claim, trimmed and lower-cased.
	Email string
	// Name is the optional name claim, trimmed.
	Name string
	// Subject is the sub claim ("" when absent).
	Subject   string
	ExpiresAt time.Time
}

// Verifier checks tokens; it is safe for concurrent use.
type Verifier struct {
	cfg      Config
	secret   []byte    // HS256 mode
	keys     *keyCache // JWKS mode
	now      func() time.Time
	verified *verifiedTokens
}

// New returns a Verifier. With a JWKS URL it fetches the keys once now and
// fails when they cannot be fetched, so that a wrong URL is found at start.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if (cfg.HS256Secret == "") == (cfg.JWKSURL == "") {
		return nil, errors.New("jwtauth: set exactly one of an HS256 secret and a JWKS URL")
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	if cfg.MinRefresh <= 0 {
		cfg.MinRefresh = DefaultMinRefresh
	}
	if cfg.MaxKeyAge <= 0 {
		cfg.MaxKeyAge = DefaultMaxKeyAge
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	v := &Verifier{cfg: cfg, now: time.Now, verified: newVerifiedTokens()}
	if cfg.HS256Secret != "" {
		if len(cfg.HS256Secret) < minHS256SecretLen {
			return nil, fmt.Errorf("jwtauth: the HS256 secret must be at least %d bytes", minHS256SecretLen)
		}
		v.secret = []byte(cfg.HS256Secret)
		return v, nil
	}
	if err := checkJWKSURL(cfg.JWKSURL, cfg.AllowInsecureJWKS); err != nil {
		return nil, err
	}
	v.keys = newKeyCache(cfg.JWKSURL, cfg.HTTPClient, cfg.MinRefresh, cfg.MaxKeyAge)
	if err := v.keys.load(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

func checkJWKSURL(raw string, allowInsecure bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("jwtauth: the JWKS URL must be an absolute http(s) URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowInsecure || isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("jwtauth: the JWKS URL must use https (keys fetched over plain http could be replaced in transit)")
	}
	return errors.New("jwtauth: the JWKS URL must be an absolute http(s) URL")
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// LooksLikeJWT reports whether s has a JWS compact serialization's shape:
// three base64url parts (the last, the signature, may be empty), so that a
// bearer credential can be routed to JWT or API-key verification.
func LooksLikeJWT(s string) bool {
	if len(s) > maxTokenBytes {
		return false
	}
	// Cut, not Split: every API key passes here, and Split allocates.
	header, rest, ok1 := strings.Cut(s, ".")
	payload, signature, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || header == "" || payload == "" {
		return false
	}
	return base64URL(header) && base64URL(payload) && base64URL(signature)
}

// base64URL reports whether p holds only base64url characters (no padding).
func base64URL(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Reasons of failures (wrapped after ErrInvalid; the message is the reason).
var (
	errAlgorithm  = errors.New("algorithm not allowed")
	errUnknownKey = errors.New("unknown signing key")
	errCritical   = errors.New("unsupported critical header")
)

// Verify checks raw and returns its claims. Every failure wraps ErrInvalid.
// A token verified before answers from memory while it may (verified.go).
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	if !LooksLikeJWT(raw) {
		return Claims{}, invalid("malformed")
	}
	sum := sha256.Sum256([]byte(raw))
	gen, fresh := v.keyGeneration()
	now := v.now()
	if c, ok := v.verified.get(sum, gen, fresh, now); ok {
		return c, nil
	}
	c, notBefore, err := v.verify(ctx, raw)
	if err != nil {
		return Claims{}, err
	}
	v.verified.put(sum, c, notBefore, gen, now, v.cfg.Leeway)
	return c, nil
}

// verify checks raw with jwx and returns its claims and its nbf (zero when
// it has none).
func (v *Verifier) verify(ctx context.Context, raw string) (Claims, time.Time, error) {
	if !wellFormedJSON(raw) {
		return Claims{}, time.Time{}, invalid("malformed")
	}
	opts := []jwt.ParseOption{
		jwt.WithKeyProvider(jws.KeyProviderFunc(func(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
			return v.fetchKeys(ctx, sink, sig)
		})),
		jwt.WithContext(ctx),
		jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(v.now)),
		jwt.WithAcceptableSkew(v.cfg.Leeway),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
	}
	if v.cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.cfg.Issuer))
	}
	if v.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.cfg.Audience))
	}
	tok, err := jwt.Parse([]byte(raw), opts...)
	if err != nil {
		return Claims{}, time.Time{}, invalid(reason(err))
	}

	var c Claims
	var email any
	if tok.Get("email", &email) != nil {
		return Claims{}, time.Time{}, invalid("no email claim")
	}
	s, ok := email.(string)
	if !ok {
		return Claims{}, time.Time{}, invalid("bad email claim")
	}
	c.Email = strings.ToLower(strings.TrimSpace(s))
	if !validEmail(c.Email) {
		return Claims{}, time.Time{}, invalid("bad email claim")
	}
	// An identity provider that says it has not verified the address must
	// not be trusted with it: memberships are found by email.
	var verified any
	if tok.Get("email_verified", &verified) == nil && (verified == false || verified == "false") {
		return Claims{}, time.Time{}, invalid("email not verified")
	}
	var name any
	if tok.Get("name", &name) == nil {
		if s, ok := name.(string); ok {
			c.Name = strings.TrimSpace(s)
		}
	}
	c.Subject, _ = tok.Subject()
	c.ExpiresAt, _ = tok.Expiration()
	notBefore, _ := tok.NotBefore()
	return c, notBefore, nil
}

// fetchKeys hands jws the keys that may verify sig, with the algorithm
// pinned: the header's alg must be HS256 for an HS256 verifier, or an
// asymmetric algorithm that fits the JWKS key named by kid.
func (v *Verifier) fetchKeys(ctx context.Context, sink jws.KeySink, sig *jws.Signature) error {
	hdr := sig.ProtectedHeaders()
	if hdr == nil {
		return errAlgorithm
	}
	alg, ok := hdr.Algorithm()
	if !ok {
		return errAlgorithm
	}
	// RFC 7515 §4.1.11: a recipient must refuse a "crit" extension it does
	// not understand, and this package understands none. jwx does not check
	// "crit" when keys come from a key provider, so it is done here.
	if hdr.Has(jws.CriticalKey) {
		return errCritical
	}
	if v.secret != nil {
		if alg != jwa.HS256() {
			return errAlgorithm
		}
		sink.Key(jwa.HS256(), v.secret)
		return nil
	}
	if _, ok := asymmetric[alg.String()]; !ok {
		return errAlgorithm
	}
	kid, _ := hdr.KeyID()
	keys, err := v.keys.lookup(ctx, kid)
	if err != nil {
		return err
	}
	n := 0
	for _, k := range keys {
		if k.accepts(alg) {
			sink.Key(alg, k.pub)
			n++
		}
	}
	if n == 0 {
		return errAlgorithm
	}
	return nil
}

func invalid(reason string) error { return fmt.Errorf("%w: %s", ErrInvalid, reason) }

// reason maps a jwx error to a short fixed text: jwx messages may quote
// parts of the token, so they are never passed on.
func reason(err error) string {
	switch {
	case errors.Is(err, errAlgorithm):
		return errAlgorithm.Error()
	case errors.Is(err, errUnknownKey):
		return errUnknownKey.Error()
	case errors.Is(err, errCritical):
		return errCritical.Error()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "verification interrupted"
	case errors.Is(err, jws.VerificationError()):
		return "bad signature"
	case errors.Is(err, jwt.TokenExpiredError()):
		return "expired"
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return "not yet valid"
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return "issued in the future"
	case errors.Is(err, jwt.InvalidIssuerError()):
		return "wrong issuer"
	case errors.Is(err, jwt.InvalidAudienceError()):
		return "wrong audience"
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return "missing required claim"
	case errors.Is(err, jwt.ValidateError()):
		return "claims not valid"
	}
	return "malformed or unverifiable"
}

// validEmail is a sanity check, not RFC 5322: one @, non-empty local part
// and a dotted-or-not domain, no spaces or control characters.
func validEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' || r == ',' {
			return false
		}
	}
	return true
}
