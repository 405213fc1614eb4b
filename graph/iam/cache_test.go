package iam

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"unsafe"

	"github.com/gatehouse-iam/gatehouse/graph/database"
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

// A model's roles share the account row's id, not the id the caller asked
// the model for: that is a slice of a request's document, which every role
// of a model kept for as long as the model was cached.
func TestModel_RolesKeepTheAccountRowsIDNotTheCallers(t *testing.T) {
	forEachDatabase(t, "gatehouse_roleids_", func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		db.Client.Account.Create().SetID("acc_1").SetName("a").SetSlug("a").SetDefaultAccessExcludes([]string{}).ExecX(ctx)
		db.Client.Role.Create().SetID("role_1").SetAccountID("acc_1").SetKey("r").SetName("R").SetGrants([]string{}).ExecX(ctx)
		doc := `{ account(id: "acc_1") { roles { key } } }` + strings.Repeat(" ", 1<<16)
		i := strings.Index(doc, "acc_1")
		s := New(db.Client, db.Dialect, slog.New(slog.DiscardHandler))
		m, err := s.loadModel(ctx, db.Client, doc[i:i+len("acc_1")])
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Roles()) != 1 || unsafe.StringData(m.Roles()[0].AccountID) != unsafe.StringData(m.Account.ID) {
			t.Fatalf("the role does not share the account row's id (%d roles)", len(m.Roles()))
		}
	})
}
