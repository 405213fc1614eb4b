package iam

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
)

// An id of the form ids.New writes packs into its ULID and unpacks to the
// same text; no other text packs, not even the same ULID in lower case.
func TestPackID_OnlyIdsNewsFormPacks(t *testing.T) {
	id := ids.New(ids.Member)
	u, ok := packID(ids.Member, id)
	if !ok || unpackID(ids.Member, u) != id {
		t.Fatalf("packID(%s) = %v, %v; unpacks to %q", id, u, ok, unpackID(ids.Member, u))
	}
	suffix := ids.Suffix(id)
	for _, bad := range []string{
		"mem_" + strings.ToLower(suffix), // the same ULID, another id
		"usr_" + suffix,                  // another prefix
		"mem" + suffix,                   // no underscore
		"mem_" + suffix[1:],              // too short
		"mem_" + suffix + "A",            // too long
		"mem_8" + suffix[1:],             // beyond the ULID's 128 bits
		"mem_" + suffix[:25] + "U",       // not Crockford's alphabet
		"", "mem_", "mem_legacy",
	} {
		if _, ok := packID(ids.Member, bad); ok {
			t.Errorf("%q packs", bad)
		}
	}
}

// A table keeps the ids of ids.New's form packed and any other as text, and
// finds every member by id and by user, in one order, before and after a
// member write (with); an id that differs only in case is another member.
func TestMemberTable_PacksIdsAndFindsEveryMember(t *testing.T) {
	var base []heldRow
	for range 6 {
		base = append(base, heldRow{MemberRef{ID: ids.New(ids.Member), UserID: ids.New(ids.User), Status: member.StatusACTIVE}, []uint16{0}})
	}
	odd := []heldRow{
		{MemberRef{ID: "mem_legacy", UserID: ids.New(ids.User), Status: member.StatusACTIVE}, nil},
		{MemberRef{ID: ids.New(ids.Member), UserID: "auth0|42", Status: member.StatusINVITED}, []uint16{1}},
		{MemberRef{ID: "mem_" + strings.ToLower(ids.Suffix(base[2].ID)), UserID: "usr_" + strings.ToLower(ids.Suffix(base[2].UserID)), Status: member.StatusSUSPENDED}, nil},
	}
	check := func(name string, tab memberTable, all []heldRow) {
		t.Helper()
		if len(tab.rows) != len(all) {
			t.Fatalf("%s: %d rows, want %d", name, len(tab.rows), len(all))
		}
		for _, r := range all {
			g, ok := tab.get(r.ID)
			u, okUser := tab.ofUser(r.UserID)
			if !ok || !okUser || g.ref() != r.MemberRef || u.ref() != r.MemberRef || !slices.Equal(tab.sets.at(g.set), r.held) {
				t.Errorf("%s: %s found %v (%+v), by user %v (%+v); want %+v", name, r.ID, ok, g.ref(), okUser, u.ref(), r.MemberRef)
			}
			_, packed := packID(ids.Member, r.ID)
			_, userPacked := packID(ids.User, r.UserID)
			if (g.odd == nil) != (packed && userPacked) {
				t.Errorf("%s: %s kept as text: %+v", name, r.ID, g.odd)
			}
		}
		for i := 1; i < len(tab.rows); i++ {
			if tab.rows[i-1].idKey().compare(tab.rows[i].idKey()) >= 0 {
				t.Errorf("%s: rows %d and %d out of order", name, i-1, i)
			}
		}
		for _, absent := range []string{"mem_" + strings.ToLower(ids.Suffix(base[0].ID)), ids.New(ids.Member), "mem_other"} {
			if _, ok := tab.get(absent); ok {
				t.Errorf("%s: %s found", name, absent)
			}
		}
	}
	tab := newMemberTable(slices.Concat(base, odd))
	check("made", tab, slices.Concat(base, odd))
	// Packed ids keep ids.New's order, which is their text's.
	for i := 1; i < len(base); i++ {
		if a, b := tab.rows[i-1].ID(), tab.rows[i].ID(); a >= b {
			t.Errorf("packed rows out of their text's order: %s, %s", a, b)
		}
	}

	added := heldRow{MemberRef{ID: ids.New(ids.Member), UserID: ids.New(ids.User), Status: member.StatusACTIVE}, []uint16{1}}
	changed := heldRow{MemberRef{ID: "mem_legacy", UserID: odd[0].UserID, Status: member.StatusREMOVED}, nil}
	moved := heldRow{MemberRef{ID: base[3].ID, UserID: base[3].UserID, Status: member.StatusACTIVE}, []uint16{0, 1}}
	all := slices.Concat(base, odd)
	all[3], all[len(base)] = moved, changed
	check("with", tab.with([]heldRow{added, changed, moved}), append(all, added))
}
