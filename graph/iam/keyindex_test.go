package iam

import "testing"

// The key index keeps the keys used last, up to its size: one pushed out is
// read again when next used (AuthenticateAPIKey), where the index grew with
// every key a server ever saw.
func TestKeyIndex_KeepsTheKeysUsedLast(t *testing.T) {
	x := newKeyIndex(2)
	x.put("A", indexedKey{id: "key_A"})
	x.put("B", indexedKey{id: "key_B"})
	if _, ok := x.get("A"); !ok { // A used last, B first to go
		t.Fatal("A not indexed")
	}
	x.put("C", indexedKey{id: "key_C"})
	if _, ok := x.get("B"); ok {
		t.Error("the index kept three keys; its size is two")
	}
	for _, u := range []string{"A", "C"} {
		if ik, ok := x.get(u); !ok || ik.id != "key_"+u {
			t.Errorf("%s: %+v, %v", u, ik, ok)
		}
	}
}
