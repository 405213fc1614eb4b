package token

import (
	"errors"
	"hash/crc32"
	"math/big"
	"strings"
	"testing"
)

const id = "01JD3V8Q7X9K2M4N6P8R0T2V4W"

func TestS4_RoundTrip(t *testing.T) {
	for _, prefix := range []string{"gk", "gko", "abcde"} {
		secret, hash, err := Generate(prefix, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(prefix) + 1 + 26 + 1 + 32 + 6; len(secret) != want {
			t.Fatalf("len(%q) = %d, want %d", secret, len(secret), want)
		}
		if !strings.HasPrefix(secret, prefix+"_"+id+"_") {
			t.Fatalf("%q does not start with %s_%s_", secret, prefix, id)
		}
		gotPrefix, gotID, err := Parse(secret)
		if err != nil || gotPrefix != prefix || gotID != id {
			t.Fatalf("Parse(%q) = %q, %q, %v", secret, gotPrefix, gotID, err)
		}
		if !Verify(secret, hash) || !Verify(secret, Hash(secret)) {
			t.Fatal("Verify refuses the generated secret")
		}
		other, otherHash, _ := Generate(prefix, id)
		if other == secret || Verify(other, hash) || Verify(secret, otherHash) {
			t.Fatal("two secrets for one id must differ and not verify against each other")
		}
	}
}

func TestS4_ChecksumIsPaddedBase62CRC32(t *testing.T) {
	// CRC32 of "" is 0: all zeros, left-padded.
	if got := checksum(""); got != "000000" {
		t.Fatalf("checksum(\"\") = %q", got)
	}
	// The standard check value: CRC32("123456789") = 0xCBF43926 = 3421780262
	// big.Int's base 62 puts lower case first; swap it for ours.
	want := new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte("123456789")))).Text(62)
	want = strings.Repeat("0", 6-len(want)) + swapCase(want)
	if got := checksum("123456789"); got != want {
		t.Fatalf("checksum(123456789) = %q, want %q", got, want)
	}
	secret, _, _ := Generate("gk", id)
	body := secret[:len(secret)-6]
	sum := new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(body)))).Text(62)
	if want := strings.Repeat("0", 6-len(sum)) + swapCase(sum); secret[len(secret)-6:] != want {
		t.Fatalf("checksum of %q is %q, want %q", body, secret[len(secret)-6:], want)
	}
}

func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
}

func TestS4_RandomPartIsUniform(t *testing.T) {
	// A coarse check that every base62 character appears: 200 secrets give
	// 6400 draws, about 103 of each.
	seen := map[byte]int{}
	for range 200 {
		s, _, err := Generate("gk", id)
		if err != nil {
			t.Fatal(err)
		}
		r := s[len("gk_")+27 : len(s)-6]
		for i := 0; i < len(r); i++ {
			seen[r[i]]++
		}
	}
	for i := 0; i < len(base62); i++ {
		if n := seen[base62[i]]; n < 40 || n > 200 {
			t.Errorf("character %q drawn %d times out of 6400", base62[i], n)
		}
	}
}

// Every single-character change is refused, by Parse (format or checksum)
// or, failing that, by Verify. With a CRC32 it is in fact always Parse.
func TestS4_EverySingleCharacterChangeFails(t *testing.T) {
	for _, prefix := range []string{"gk", "gko"} {
		secret, hash, err := Generate(prefix, id)
		if err != nil {
			t.Fatal(err)
		}
		reject := func(what, typo string) {
			t.Helper()
			if _, _, err := Parse(typo); err == nil {
				if Verify(typo, hash) {
					t.Fatalf("%s accepted: %q", what, typo)
				}
				t.Errorf("%s passed Parse (only Verify caught it): %q", what, typo)
			} else if !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: %v, want ErrMalformed", what, err)
			}
		}
		for i := range len(secret) {
			for c := range 256 {
				if byte(c) == secret[i] {
					continue
				}
				reject("substitution", secret[:i]+string([]byte{byte(c)})+secret[i+1:])
			}
			reject("deletion", secret[:i]+secret[i+1:])
			reject("insertion", secret[:i]+"a"+secret[i:])
			if i+1 < len(secret) && secret[i] != secret[i+1] {
				reject("transposition", secret[:i]+secret[i+1:i+2]+secret[i:i+1]+secret[i+2:])
			}
		}
	}
}

func TestS4_MalformedRefusedWithoutLookup(t *testing.T) {
	secret, _, _ := Generate("gk", id)
	body := secret[len("gk_"):]                     // ULID_random+checksum
	random := secret[len("gk_")+27 : len(secret)-6] // 32 chars
	// resum recomputes the checksum so that only the named defect remains.
	resum := func(s string) string { return s + checksum(s) }
	cases := map[string]string{
		"empty":                 "",
		"prefix only":           "gk",
		"prefix and separator":  "gk_",
		"one char too long":     secret + "x",
		"one char too short":    secret[:len(secret)-1],
		"no checksum":           secret[:len(secret)-6],
		"JWT":                   "eyJhbGciOiJIUzI1NiJ9.e30.sig",
		"upper-case prefix":     resum("GK_" + id + "_" + random),
		"one-letter prefix":     resum("g_" + id + "_" + random),
		"six-letter prefix":     resum("gkgkgk_" + id + "_" + random),
		"digit in prefix":       resum("g1_" + id + "_" + random),
		"no prefix":             "_" + body,
		"missing separator":     resum("gk_" + id + random),
		"dash separator":        resum("gk_" + id + "-" + random),
		"lower-case ULID":       resum("gk_" + strings.ToLower(id) + "_" + random),
		"ULID with I":           resum("gk_" + "I" + id[1:] + "_" + random),
		"ULID with U":           resum("gk_" + id[:25] + "U" + "_" + random),
		"ULID overflow (8...)":  resum("gk_" + "8" + id[1:] + "_" + random),
		"ULID 25 chars":         resum("gk_" + id[1:] + "_" + random + "x"),
		"random with -":         resum("gk_" + id + "_" + random[:31] + "-"),
		"random with _":         resum("gk_" + id + "_" + random[:31] + "_"),
		"random non-ASCII":      resum("gk_" + id + "_" + random[:30] + "é"),
		"random 31 chars":       resum("gk_" + id + "_" + random[:31]),
		"random 33 chars":       resum("gk_" + id + "_" + random + "a"),
		"checksum lower-case":   strings.ToLower(secret[:len(secret)-6]) + strings.ToLower(secret[len(secret)-6:]),
		"leading space":         " " + secret,
		"trailing newline":      secret + "\n",
		"prefixed by another":   "x" + secret,
		"checksum of other key": secret[:len(secret)-6] + checksum("gk_"+id+"_"+strings.Repeat("a", 32)),
	}
	for name, bad := range cases {
		if bad == secret {
			continue // e.g. lower-casing changed nothing
		}
		if _, _, err := Parse(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Parse(%q) = %v, want ErrMalformed", name, bad, err)
		}
	}
	for _, p := range []string{"", "g", "GK", "gk1", "gkgkgk", "g_k"} {
		if _, _, err := Generate(p, id); !errors.Is(err, ErrMalformed) {
			t.Errorf("Generate(%q, id) = %v, want ErrMalformed", p, err)
		}
	}
	for _, u := range []string{"", id[1:], id + "0", strings.ToLower(id), "8" + id[1:], "key_" + id} {
		if _, _, err := Generate("gk", u); !errors.Is(err, ErrMalformed) {
			t.Errorf("Generate(gk, %q) = %v, want ErrMalformed", u, err)
		}
	}
}

func TestS4_VerifyRefusesOtherHashes(t *testing.T) {
	secret, hash, _ := Generate("gk", id)
	for _, stored := range [][]byte{nil, {}, hash[:31], append(append([]byte{}, hash...), 0), make([]byte, 32)} {
		if Verify(secret, stored) {
			t.Errorf("Verify accepted stored hash %x", stored)
		}
	}
	if len(Hash(secret)) != 32 {
		t.Fatal("Hash is not SHA-256 sized")
	}
}
