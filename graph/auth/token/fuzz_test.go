package token

import (
	"errors"
	"hash/crc32"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

// refShape is the token format as the package documents it, written
// independently of Parse: prefix, ULID (first digit 0–7, Crockford base32
// without I, L, O, U), 32 base62 characters, then a 6-character checksum.
var refShape = regexp.MustCompile(`^([a-z]{2,5})_([0-7][0-9A-HJKMNP-TV-Z]{25})_[0-9A-Za-z]{32}([0-9A-Za-z]{6})$`)

// refChecksum is the CRC32 (IEEE) in base62, digits then upper then lower
// case, left-padded with zeros; big.Int's base 62 orders lower case first.
func refChecksum(body string) string {
	s := swapCase(new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(body)))).Text(62))
	return strings.Repeat("0", checksumLen-len(s)) + s
}

func FuzzS4_Parse(f *testing.F) {
	const random = "f3XkQ9a0Zk2bM7rT1vW5yC8eH4jL6nP0"
	s, o := format("gk", id, random), format("gko", id, random)
	for _, seed := range []string{s, o, "gk_", "", "gk_" + id + "_", s[:len(s)-1] + "0", "eyJ.e30.x",
		s + "\n", " " + s, s[:len(s)-checksumLen] + "zzzzzz",
		// One defect each, with a checksum that fits.
		format("GK", id, random), format("g", id, random), format("gkgkgk", id, random), format("g1", id, random),
		format("gk", strings.ToLower(id), random), format("gk", "8"+id[1:], random), format("gk", "I"+id[1:], random),
		format("gk", id[:25]+"U", random), format("gk", id[1:], random+"a"), format("gk", id, random[1:]),
		format("gk", id, random+"b"), format("gk", id, random[1:]+"-"), format("gk", id, random[1:]+"_"),
		format("gk", id, random[2:]+"é"), format("gk-", id, random), strings.Replace(s, "_", "-", 1)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		prefix, got, err := Parse(in)
		m := refShape.FindStringSubmatch(in)
		want := m != nil && refChecksum(in[:len(in)-checksumLen]) == m[3]
		if err != nil {
			if !errors.Is(err, ErrMalformed) || prefix != "" || got != "" {
				t.Fatalf("Parse(%q) = %q, %q, %v", in, prefix, got, err)
			}
			if want {
				t.Fatalf("Parse refused the well-formed token %q", in)
			}
			return
		}
		if !want || prefix != m[1] || got != m[2] {
			t.Fatalf("Parse accepted %q as %q/%q; reference: shape %q", in, prefix, got, m)
		}
		// Formatting the parts again gives the same token.
		random := in[len(prefix)+1+ulidLen+1 : len(in)-checksumLen]
		if again := format(prefix, got, random); again != in {
			t.Fatalf("Parse(%q) = %q/%q/%q, which formats as %q", in, prefix, got, random, again)
		}
	})
}

// format builds a token from its parts with the reference checksum.
func format(prefix, id, random string) string {
	body := prefix + "_" + id + "_" + random
	return body + refChecksum(body)
}

// fit maps arbitrary bytes onto n characters of alphabet (keeping those
// already in it, padding with its first character), so that the fuzzer can
// steer every part of a token.
func fit(b, alphabet string, n int) string {
	out := make([]byte, n)
	for i := range out {
		switch {
		case i >= len(b):
			out[i] = alphabet[0]
		case strings.IndexByte(alphabet, b[i]) >= 0:
			out[i] = b[i]
		default:
			out[i] = alphabet[int(b[i])%len(alphabet)]
		}
	}
	return string(out)
}

// FuzzS4_Typo builds a well-formed token from the fuzzer's bytes, checks
// that Parse accepts it and that Generate round-trips its prefix and id,
// then makes one typo (substitution, deletion, insertion or transposition
// of adjacent characters): the typo is refused by Parse or names another
// key, and never verifies against the original's hash.
func FuzzS4_Typo(f *testing.F) {
	f.Add("gk", id, strings.Repeat("a", randomLen), 0, byte('x'), uint8(0))
	f.Add("gko", id, "0123456789abcdefghijABCDEFGHIJxy", 70, byte('0'), uint8(0)) // in the checksum
	f.Add("gk", id, strings.Repeat("Z", randomLen), 3, byte('1'), uint8(0))       // in the id
	f.Add("abcde", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "b", 40, byte('b'), uint8(1))
	f.Add("gk", id, "q", 2, byte('_'), uint8(2))
	f.Add("gk", id, "ab", 30, byte(0), uint8(3))
	f.Add("gk", "", "", 68, byte(0), uint8(3)) // the last random character and the first checksum one
	f.Fuzz(func(t *testing.T, prefixSeed, idSeed, randomSeed string, pos int, with byte, edit uint8) {
		prefix := fit(prefixSeed, "abcdefghijklmnopqrstuvwxyz", min(max(len(prefixSeed), 2), 5))
		key := fit(idSeed[:min(len(idSeed), 1)], "01234567", 1) + fit(idSeed[min(len(idSeed), 1):], crockford, ulidLen-1)
		tok := format(prefix, key, fit(randomSeed, base62, randomLen))
		if p, k, err := Parse(tok); err != nil || p != prefix || k != key {
			t.Fatalf("Parse(%q) = %q, %q, %v; want %q, %q", tok, p, k, err, prefix, key)
		}
		secret, hash, err := Generate(prefix, key)
		if err != nil {
			t.Fatalf("Generate(%q, %q): %v", prefix, key, err)
		}
		if p, k, err := Parse(secret); err != nil || p != prefix || k != key || !Verify(secret, hash) {
			t.Fatalf("Generate(%q, %q) = %q: Parse = %q, %q, %v; verifies %v", prefix, key, secret, p, k, err, Verify(secret, hash))
		}
		if Verify(tok, hash) {
			t.Fatalf("%q verifies against the hash of %q", tok, secret)
		}

		i := pos % len(tok)
		if i < 0 {
			i += len(tok)
		}
		var typo string
		switch edit % 4 {
		case 0:
			typo = tok[:i] + string([]byte{with}) + tok[i+1:]
		case 1:
			typo = tok[:i] + tok[i+1:]
		case 2:
			typo = tok[:i] + string([]byte{with}) + tok[i:]
		case 3:
			if i+1 >= len(tok) {
				return
			}
			typo = tok[:i] + tok[i+1:i+2] + tok[i:i+1] + tok[i+2:]
		}
		if typo == tok {
			return
		}
		if p, k, err := Parse(typo); err == nil && p == prefix && k == key {
			t.Fatalf("typo %q of %q accepted for the same key", typo, tok)
		}
		if Verify(typo, Hash(tok)) {
			t.Fatalf("typo %q verifies against the hash of %q", typo, tok)
		}
	})
}
