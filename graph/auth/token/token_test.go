package token

import (
	"errors"
	"testing"
)

const id = "01JD3V8Q7X9K2M4N6P8R0T2V4W"

func TestS4_RoundTrip(t *testing.T) {
	secret, hash, err := Generate("gk", id)
	if err != nil {
		t.Fatal(err)
	}
	prefix, got, err := Parse(secret)
	if err != nil || prefix != "gk" || got != id {
		t.Fatalf("Parse(%q) = %q, %q, %v", secret, prefix, got, err)
	}
	if !Verify(secret, hash) {
		t.Fatal("Verify refuses the generated secret")
	}
	other, _, _ := Generate("gk", id)
	if other == secret || Verify(other, hash) {
		t.Fatal("two secrets for one id must differ and not verify against each other")
	}
}

func TestS4_EveryTypoIsCaught(t *testing.T) {
	secret, hash, _ := Generate("gko", id)
	for i := range secret {
		for _, c := range []byte{'0', 'a', 'Z', '_'} {
			if secret[i] == c {
				continue
			}
			typo := secret[:i] + string(c) + secret[i+1:]
			if _, _, err := Parse(typo); err == nil && Verify(typo, hash) {
				t.Fatalf("typo at %d accepted: %q", i, typo)
			}
		}
	}
}

func TestS4_MalformedRefusedWithoutLookup(t *testing.T) {
	secret, _, _ := Generate("gk", id)
	for _, bad := range []string{"", "gk", "gk_", secret + "x", secret[:len(secret)-1], "GK" + secret[2:],
		"gk_" + id + "-" + secret[len("gk_")+27:], "x" + secret, "eyJhbGciOiJIUzI1NiJ9.e30.sig"} {
		if _, _, err := Parse(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", bad, err)
		}
	}
	if _, _, err := Generate("GK", id); err == nil {
		t.Error("upper-case prefix accepted")
	}
}

func FuzzParse(f *testing.F) {
	s, _, _ := Generate("gk", id)
	f.Add(s)
	f.Add("gk_")
	f.Fuzz(func(t *testing.T, in string) {
		prefix, got, err := Parse(in)
		if err == nil && (prefix == "" || len(got) != ulidLen) {
			t.Fatalf("accepted %q as %q/%q", in, prefix, got)
		}
	})
}
