package iam

import (
	"strings"
	"testing"
	"unsafe"
)

// The cache's maps by account, never pruned, key by their own copy of an
// account id: callers pass ids that are slices of a request's document,
// which a key would keep for as long as the server runs.
func TestCache_KeysAreCopiesNotTheCallersDocument(t *testing.T) {
	doc := `mutation { createRole(input: {accountId: "acc_1", name: "x"}) { role { id } } }` + strings.Repeat(" ", 1<<16)
	i := strings.Index(doc, "acc_1")
	id := doc[i : i+len("acc_1")]
	c := newCache(DefaultCacheBytes)
	c.invalidate(id)
	c.advanced(id, 7)
	within := func(k string) bool {
		p, start := uintptr(unsafe.Pointer(unsafe.StringData(k))), uintptr(unsafe.Pointer(unsafe.StringData(doc)))
		return p >= start && p < start+uintptr(len(doc))
	}
	for k := range c.gens {
		if within(k) {
			t.Errorf("gens keeps the request's document under %q", k)
		}
	}
	for k := range c.known {
		if within(k) {
			t.Errorf("known keeps the request's document under %q", k)
		}
	}
	if len(c.gens) != 1 || len(c.known) != 1 {
		t.Fatalf("gens %v, known %v: want acc_1 in each", c.gens, c.known)
	}
}
