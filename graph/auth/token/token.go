// Package token is the format of Gatehouse's secrets (operator keys and API
// keys), modelled on GitHub's tokens so that secret scanners can find leaked
// ones and a mistyped one is refused without a database lookup (S4):
//
//	<prefix>_<ULID of the key's id>_<32 random base62 chars><6-char base62 CRC32>
//
// e.g. gk_01JD3V8Q7X9K2M4N6P8R0T2V4W_f3Xk…Q9a0Zk2b. Only a hash is stored.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"hash/crc32"
	"math/big"
	"strings"
)

const (
	alphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	randomLen   = 32 // 32 base62 chars ≈ 190 bits
	checksumLen = 6
	ulidLen     = 26
	crockford   = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// ErrMalformed is returned for a string that is not a well-formed token.
var ErrMalformed = errors.New("malformed key")

// Generate returns a new secret for the key whose id's ULID part is id, and
// the hash to store.
func Generate(prefix, id string) (secret string, hash []byte, err error) {
	if !validPrefix(prefix) || !validULID(id) {
		return "", nil, ErrMalformed
	}
	b := make([]byte, randomLen)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	var sb strings.Builder
	sb.WriteString(prefix + "_" + id + "_")
	max := big.NewInt(int64(len(alphabet)))
	for range randomLen {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", nil, err
		}
		sb.WriteByte(alphabet[n.Int64()])
	}
	body := sb.String()
	secret = body + checksum(body)
	return secret, Hash(secret), nil
}

// Parse checks a token's format and checksum, without any lookup, and returns
// its prefix and embedded id (the ULID part).
func Parse(secret string) (prefix, id string, err error) {
	prefix, rest, ok := strings.Cut(secret, "_")
	if !ok || !validPrefix(prefix) || len(rest) != ulidLen+1+randomLen+checksumLen || rest[ulidLen] != '_' {
		return "", "", ErrMalformed
	}
	id = rest[:ulidLen]
	tail := rest[ulidLen+1:]
	if !validULID(id) || strings.Trim(tail, alphabet) != "" {
		return "", "", ErrMalformed
	}
	body := secret[:len(secret)-checksumLen]
	if subtle.ConstantTimeCompare([]byte(checksum(body)), []byte(secret[len(secret)-checksumLen:])) != 1 {
		return "", "", ErrMalformed
	}
	return prefix, id, nil
}

// Hash returns what is stored for a secret. The secrets carry about 190
// random bits, so a fast hash is as safe as a slow KDF here and keeps
// authentication cheap.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Verify compares secret with a stored hash in constant time.
func Verify(secret string, stored []byte) bool {
	return subtle.ConstantTimeCompare(Hash(secret), stored) == 1
}

func checksum(body string) string {
	n := crc32.ChecksumIEEE([]byte(body))
	out := make([]byte, checksumLen)
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[n%62]
		n /= 62
	}
	return string(out)
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

func validULID(s string) bool {
	return len(s) == ulidLen && strings.Trim(s, crockford) == ""
}
