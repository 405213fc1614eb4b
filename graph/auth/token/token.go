// Package token is the format of Gatehouse's secrets (operator keys and API
// keys), modelled on GitHub's tokens so that secret scanners can find leaked
// ones and a mistyped one is refused without a database lookup (S4):
//
//	<prefix>_<ULID of the key's id>_<32 random base62 chars><6-char base62 CRC32>
//
// e.g. gk_01JD3V8Q7X9K2M4N6P8R0T2V4W_f3Xk…Q9a0Zk2b. The prefix is 2–5
// lower-case letters (gk for API keys, gko for operator keys); the checksum is
// the CRC32 (IEEE) of everything before it. Only a hash is stored.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"hash/crc32"
	"strings"
)

const (
	base62      = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	crockford   = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	ulidLen     = 26
	randomLen   = 32 // 32 × log2(62) ≈ 190.5 bits
	checksumLen = 6  // 62^6 > 2^32: every CRC32 has its own encoding
)

// ErrMalformed is returned for a string that is not a well-formed token.
var ErrMalformed = errors.New("malformed key")

// Generate returns a new secret for the key whose id's ULID part is id, and
// the hash to store. The random part comes from crypto/rand.
func Generate(prefix, id string) (secret string, hash []byte, err error) {
	if !validPrefix(prefix) || !validULID(id) {
		return "", nil, ErrMalformed
	}
	var sb strings.Builder
	sb.Grow(len(prefix) + 1 + ulidLen + 1 + randomLen + checksumLen)
	sb.WriteString(prefix)
	sb.WriteByte('_')
	sb.WriteString(id)
	sb.WriteByte('_')
	// Rejection sampling keeps every base62 character equally likely:
	// bytes ≥ 248 (= 4 × 62) are dropped.
	var buf [64]byte
	for n := 0; n < randomLen; {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", nil, err
		}
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			sb.WriteByte(base62[b%62])
			if n++; n == randomLen {
				break
			}
		}
	}
	body := sb.String()
	secret = body + checksum(body)
	return secret, Hash(secret), nil
}

// Parse checks a token's format and checksum, without any lookup, and
// returns its prefix and embedded id (the ULID part). Anything else is
// ErrMalformed.
func Parse(secret string) (prefix, id string, err error) {
	prefix, rest, ok := strings.Cut(secret, "_")
	if !ok || !validPrefix(prefix) || len(rest) != ulidLen+1+randomLen+checksumLen || rest[ulidLen] != '_' {
		return "", "", ErrMalformed
	}
	id, tail := rest[:ulidLen], rest[ulidLen+1:]
	if !validULID(id) || !allIn(tail, base62) {
		return "", "", ErrMalformed
	}
	body, sum := secret[:len(secret)-checksumLen], secret[len(secret)-checksumLen:]
	want := checksumOf(body)
	if subtle.ConstantTimeCompare(want[:], []byte(sum)) != 1 {
		return "", "", ErrMalformed
	}
	return prefix, id, nil
}

// Hash returns what is stored for a secret: its SHA-256. The random part
// carries more than 190 bits of entropy, so guessing is hopeless whatever the
// hash speed, and a slow KDF (bcrypt, argon2) would only make every request
// slower.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Verify reports whether secret matches a stored hash, in constant time.
func Verify(secret string, stored []byte) bool {
	h := sha256.Sum256([]byte(secret)) // on the stack, unlike Hash's
	return subtle.ConstantTimeCompare(h[:], stored) == 1
}

// checksum is the CRC32 (IEEE) of body in base62, left-padded to 6 chars.
func checksum(body string) string {
	out := checksumOf(body)
	return string(out[:])
}

// checksumOf is checksum without the string (Parse compares it in place).
func checksumOf(body string) [checksumLen]byte {
	n := crc32.ChecksumIEEE([]byte(body))
	var out [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return out
}

func validPrefix(p string) bool {
	if len(p) < 2 || len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 'a' || p[i] > 'z' {
			return false
		}
	}
	return true
}

// validULID accepts 26 upper-case Crockford base32 characters whose first one
// is at most 7 (a ULID is 128 bits; 26 base32 digits hold 130).
func validULID(s string) bool {
	return len(s) == ulidLen && s[0] <= '7' && allIn(s, crockford)
}

func allIn(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}
