package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// asymmetric are the algorithms a JWKS verifier accepts.
var asymmetric = map[string]struct{}{
	"RS256": {}, "RS384": {}, "RS512": {},
	"PS256": {}, "PS384": {}, "PS512": {},
	"ES256": {}, "ES384": {}, "ES512": {},
	"EdDSA": {}, "Ed25519": {},
}

// maxJWKSBytes bounds a JWKS document.
const maxJWKSBytes = 1 << 20

// minRSABits refuses toy RSA keys.
const minRSABits = 2048

// pubKey is a usable verification key of the JWKS.
type pubKey struct {
	kid string
	alg string // the key's "alg", "" when the JWKS does not say
	pub any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// accepts reports whether alg (already known to be asymmetric) fits the key.
func (k pubKey) accepts(alg jwa.SignatureAlgorithm) bool {
	a := alg.String()
	if k.alg != "" && k.alg != a && !(k.alg == "EdDSA" && a == "Ed25519" || k.alg == "Ed25519" && a == "EdDSA") {
		return false
	}
	switch p := k.pub.(type) {
	case *rsa.PublicKey:
		return a[:2] == "RS" || a[:2] == "PS"
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256():
			return a == "ES256"
		case elliptic.P384():
			return a == "ES384"
		case elliptic.P521():
			return a == "ES512"
		}
	case ed25519.PublicKey:
		return a == "EdDSA" || a == "Ed25519"
	}
	return false
}

// keyCache holds the JWKS. Keys are looked up by kid; an unknown kid fetches
// the JWKS again (the identity provider may have rotated its keys), at most
// once per minRefresh whatever the number of requests; keys older than
// maxAge are refreshed in the background while still in use.
type keyCache struct {
	url        string
	client     *http.Client
	minRefresh time.Duration
	maxAge     time.Duration
	now        func() time.Time

	mu        sync.Mutex
	keys      []pubKey
	gen       uint64        // counts successful fetches (verified tokens are of one)
	fetchedAt time.Time     // last successful fetch
	triedAt   time.Time     // last fetch attempt
	inflight  chan struct{} // closed when the running fetch ends; nil when none runs
}

func newKeyCache(url string, client *http.Client, minRefresh, maxAge time.Duration) *keyCache {
	return &keyCache{url: url, client: client, minRefresh: minRefresh, maxAge: maxAge, now: time.Now}
}

// load fetches the keys now (New).
func (c *keyCache) load(ctx context.Context) error {
	keys, err := c.fetch(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys, c.fetchedAt, c.triedAt = keys, c.now(), c.now()
	c.gen++
	return nil
}

// generation is the generation of the keys in hand, and whether they are
// younger than maxAge.
func (c *keyCache) generation() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.now().Sub(c.fetchedAt) < c.maxAge
}

// lookup returns the keys a token's kid names (every key when kid is empty),
// or errUnknownKey.
func (c *keyCache) lookup(ctx context.Context, kid string) ([]pubKey, error) {
	c.mu.Lock()
	keys := c.match(kid)
	if len(keys) > 0 {
		if c.now().Sub(c.fetchedAt) >= c.maxAge {
			c.startLocked() // stale: refresh in the background, use what we have
		}
		c.mu.Unlock()
		return keys, nil
	}
	done := c.startLocked()
	c.mu.Unlock()
	if done == nil {
		return nil, errUnknownKey // fetched too recently: the kid is just unknown
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if keys = c.match(kid); len(keys) == 0 {
		return nil, errUnknownKey
	}
	return keys, nil
}

func (c *keyCache) match(kid string) []pubKey {
	if kid == "" {
		return c.keys
	}
	for i, k := range c.keys {
		if k.kid == kid {
			out := []pubKey{k}
			for _, o := range c.keys[i+1:] { // tolerate duplicate kids (e.g. RSA and EC)
				if o.kid == kid {
					out = append(out, o)
				}
			}
			return out
		}
	}
	return nil
}

// startLocked starts a background fetch unless one runs (it returns that
// one) or the last one started less than minRefresh ago (it returns nil).
// The fetch does not depend on any request's context, so that a cancelled
// request cannot abort it for the others waiting.
func (c *keyCache) startLocked() <-chan struct{} {
	if c.inflight != nil {
		return c.inflight
	}
	if now := c.now(); now.Sub(c.triedAt) < c.minRefresh {
		return nil
	}
	c.triedAt = c.now()
	done := make(chan struct{})
	c.inflight = done
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		keys, err := c.fetch(ctx)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.inflight = nil
		if err == nil {
			c.keys, c.fetchedAt = keys, c.now()
			c.gen++
		}
	}()
	return done
}

// fetch GETs and parses the JWKS, keeping the keys usable for signature
// verification: RSA (≥ 2048 bits), EC P-256/384/521 and Ed25519 public keys
// not marked for encryption. Symmetric keys are dropped: a key published at
// a URL is no secret.
func (c *keyCache) fetch(ctx context.Context) ([]pubKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: fetch JWKS: %w", err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	res, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: fetch JWKS: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
		return nil, fmt.Errorf("jwtauth: fetch JWKS: HTTP %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt == "text/html" {
			return nil, errors.New("jwtauth: fetch JWKS: got an HTML page, not a key set")
		}
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwtauth: fetch JWKS: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, errors.New("jwtauth: fetch JWKS: larger than 1 MiB")
	}
	// Keys are parsed one by one: a key this package cannot use (a 1024-bit
	// RSA key, an unknown kty) must not void the others.
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New("jwtauth: parse JWKS: not a JSON key set")
	}
	var keys []pubKey
	for _, rawKey := range doc.Keys {
		k, err := jwk.ParseKey(rawKey)
		if err != nil {
			continue
		}
		if pk, ok := usable(k); ok {
			keys = append(keys, pk)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("jwtauth: the JWKS holds no usable signature verification key")
	}
	return keys, nil
}

func usable(k jwk.Key) (pubKey, bool) {
	if use, ok := k.KeyUsage(); ok && use != "" && use != jwk.ForSignature.String() {
		return pubKey{}, false
	}
	switch k.KeyType() {
	case jwa.RSA(), jwa.EC(), jwa.OKP():
	default:
		return pubKey{}, false
	}
	pub, err := k.PublicKey() // in case the JWKS carries private halves
	if err != nil {
		return pubKey{}, false
	}
	var raw any
	if err := jwk.Export(pub, &raw); err != nil {
		return pubKey{}, false
	}
	switch p := raw.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < minRSABits {
			return pubKey{}, false
		}
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() && p.Curve != elliptic.P384() && p.Curve != elliptic.P521() {
			return pubKey{}, false
		}
	case ed25519.PublicKey:
	default:
		return pubKey{}, false
	}
	out := pubKey{pub: raw}
	out.kid, _ = k.KeyID()
	if a, ok := k.Algorithm(); ok {
		out.alg = a.String()
		if _, ok := asymmetric[out.alg]; !ok {
			return pubKey{}, false // e.g. a key pinned to HS256 or RSA-OAEP
		}
	}
	return out, true
}
