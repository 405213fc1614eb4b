package jwtauth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// P3 holds for a token answered from memory as for one verified afresh.

// A remembered token answers without being parsed again: a fraction of
// the allocations of verifying it.
func TestP3_RememberedTokenAnswersFromMemory(t *testing.T) {
	v := hsVerifier(t)
	tok := mint(t, hs(secret))
	want, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	afresh := testing.AllocsPerRun(20, func() {
		if _, _, err := v.verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	})
	remembered := testing.AllocsPerRun(20, func() {
		if c, err := v.Verify(context.Background(), tok); err != nil || c != want {
			t.Fatalf("remembered: %+v, %v; want %+v", c, err, want)
		}
	})
	if remembered > 2 || remembered*10 > afresh {
		t.Fatalf("remembered token: %.0f allocations, verifying it: %.0f", remembered, afresh)
	}
}

// A remembered token still expires (exp plus the leeway).
func TestP3_RememberedTokenStillExpires(t *testing.T) {
	v := hsVerifier(t)
	base := time.Now()
	v.now = func() time.Time { return base }
	tok := mint(t, hs(secret), func(b *jwt.Builder) *jwt.Builder { return b.Expiration(base.Add(time.Minute)) })
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	v.now = func() time.Time { return base.Add(time.Minute + DefaultLeeway - time.Second) }
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	v.now = func() time.Time { return base.Add(time.Minute + DefaultLeeway + time.Second) }
	refused(t, v, tok, "expired")
}

// Only the very bytes verified are remembered: a token differing in its
// signature is checked, and refused.
func TestP3_RememberedTokenIsThoseBytesOnly(t *testing.T) {
	v := hsVerifier(t)
	tok := mint(t, hs(secret))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	last := tok[len(tok)-2]
	swap := byte('A')
	if last == 'A' {
		swap = 'B'
	}
	refused(t, v, tok[:len(tok)-2]+string(swap)+tok[len(tok)-1:], "")
	refused(t, v, mint(t, hs("another secret of at least thirty-two bytes")), "")
}

// A key the identity provider withdraws stops working for a token verified
// and remembered while it was published: keys older than MaxKeyAge are not
// trusted from memory, the full path refreshes them, and the refreshed set
// starts a new generation.
func TestP3_RememberedTokenStopsWithItsWithdrawnKey(t *testing.T) {
	j := newJWKS(t)
	k1 := j.add(t, "k1", jwa.RS256())
	v := j.verifier(t, Config{MinRefresh: 50 * time.Millisecond, MaxKeyAge: 100 * time.Millisecond})
	tok := mint(t, signWith(jwa.RS256(), k1, "k1"))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	j.remove("k1")
	j.add(t, "k2", jwa.RS256())
	time.Sleep(150 * time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := v.Verify(context.Background(), tok); errors.Is(err, ErrInvalid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a remembered token still verifies after its key was withdrawn")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A fetch of the key set (here because a token names a new key) starts a
// new generation: a token remembered from the old set is checked again, and
// refused once its key is gone, however young the new set is.
func TestP3_RememberedTokenIsOfItsKeySet(t *testing.T) {
	j := newJWKS(t)
	k1 := j.add(t, "k1", jwa.RS256())
	v := j.verifier(t, Config{MinRefresh: 50 * time.Millisecond, MaxKeyAge: time.Hour})
	old := mint(t, signWith(jwa.RS256(), k1, "k1"))
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	j.remove("k1")
	k2 := j.add(t, "k2", jwa.RS256())
	time.Sleep(60 * time.Millisecond) // past MinRefresh: the new kid fetches the set
	if _, err := v.Verify(context.Background(), mint(t, signWith(jwa.RS256(), k2, "k2"))); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
	refused(t, v, old, "unknown signing key")
}
