package iam

import (
	"strings"

	"github.com/oklog/ulid/v2"
)

// idKey is an id as a member table keeps and orders it. An id of the form
// ids.New writes (a prefix, "_" and a ULID in upper case) is kept in its
// ULID's 16 bytes, where its text took 30 and its string header 16; ids
// of that form order as their text does. Any other id (none that Gatehouse
// makes, but rows written by hand or imported) is kept as text and orders
// after them.
type idKey struct {
	u    ulid.ULID
	text string
	odd  bool // not of ids.New's form: text holds it
}

// string is the id of the given prefix whose key k is.
func (k idKey) string(prefix string) string {
	if k.odd {
		return k.text
	}
	return unpackID(prefix, k.u)
}

// keyOf is the key of an id of the given prefix.
func keyOf(prefix, id string) idKey {
	if u, ok := packID(prefix, id); ok {
		return idKey{u: u}
	}
	return idKey{text: id, odd: true}
}

func (a idKey) compare(b idKey) int {
	switch {
	case a.odd != b.odd:
		if a.odd {
			return 1
		}
		return -1
	case a.odd:
		return strings.Compare(a.text, b.text)
	}
	return a.u.Compare(b.u)
}

// packID returns the ULID of id when id is prefix, "_" and a ULID exactly
// as ids.New writes it: the text unpackID gives back. A ULID in lower case
// parses to the same bytes but is another id, so it does not pack.
func packID(prefix, id string) (ulid.ULID, bool) {
	n := len(prefix) + 1
	if len(id) != n+ulid.EncodedSize || id[:n-1] != prefix || id[n-1] != '_' {
		return ulid.ULID{}, false
	}
	u, err := ulid.ParseStrict(id[n:])
	if err != nil {
		return ulid.ULID{}, false
	}
	var text [ulid.EncodedSize]byte
	if u.MarshalTextTo(text[:]) != nil || string(text[:]) != id[n:] {
		return ulid.ULID{}, false
	}
	return u, true
}

// unpackID is the id packID packed into u.
func unpackID(prefix string, u ulid.ULID) string {
	var b [16 + ulid.EncodedSize]byte // prefixes are short (ids)
	n := copy(b[:15], prefix)
	b[n] = '_'
	_ = u.MarshalTextTo(b[n+1 : n+1+ulid.EncodedSize]) // the size is right
	return string(b[:n+1+ulid.EncodedSize])
}
