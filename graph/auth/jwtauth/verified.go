package jwtauth

import (
	"crypto/sha256"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// verifiedTokens remembers the tokens a verifier accepted, by their SHA-256:
// a dashboard sends the same token with every request, and parsing and
// checking it again took about 75 µs and 18 KB a request (jwx decodes the
// header and the claims with encoding/json). A remembered token answers only
//
//   - before its exp plus the leeway, and not before its nbf less the
//     leeway (iat was met when it was verified and stays met);
//   - while the keys are those it was verified with: every JWKS fetch
//     starts a new generation, and keys older than MaxKeyAge are not
//     trusted from memory (the full path refreshes them, and a withdrawn
//     key stops working as it did before);
//   - for verifiedFor at most.
//
// Refusals are never remembered: each goes through every check again.
type verifiedTokens struct {
	c *lru.Cache[[sha256.Size]byte, verifiedToken]
}

type verifiedToken struct {
	claims    Claims
	notBefore time.Time // nbf less the leeway (zero: none)
	until     time.Time // the sooner of exp plus the leeway and verifiedFor after verifying
	gen       uint64
}

const (
	// verifiedFor bounds how long a token answers from memory.
	verifiedFor = 5 * time.Minute
	// maxVerified bounds the tokens remembered (about 150 bytes each).
	maxVerified = 10_000
)

func newVerifiedTokens() *verifiedTokens {
	c, _ := lru.New[[sha256.Size]byte, verifiedToken](maxVerified)
	return &verifiedTokens{c: c}
}

// get returns the claims of the token with this digest, if it was verified
// with the keys of generation gen, they are fresh, and it is valid at now.
func (t *verifiedTokens) get(sum [sha256.Size]byte, gen uint64, fresh bool, now time.Time) (Claims, bool) {
	if !fresh {
		return Claims{}, false
	}
	e, ok := t.c.Get(sum)
	if !ok || e.gen != gen || !now.Before(e.until) || now.Before(e.notBefore) {
		return Claims{}, false
	}
	return e.claims, true
}

// put remembers a token verified at now with the keys of generation gen.
func (t *verifiedTokens) put(sum [sha256.Size]byte, c Claims, notBefore time.Time, gen uint64, now time.Time, leeway time.Duration) {
	e := verifiedToken{claims: c, gen: gen, until: now.Add(verifiedFor)}
	if exp := c.ExpiresAt.Add(leeway); exp.Before(e.until) {
		e.until = exp
	}
	if !notBefore.IsZero() {
		e.notBefore = notBefore.Add(-leeway)
	}
	t.c.Add(sum, e)
}

// keyGeneration is the generation of the keys in hand, and whether they are
// fresh (younger than MaxKeyAge). An HS256 secret never changes.
func (v *Verifier) keyGeneration() (uint64, bool) {
	if v.keys == nil {
		return 0, true
	}
	return v.keys.generation()
}
