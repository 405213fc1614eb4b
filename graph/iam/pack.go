package iam

import "strings"

// packStrings copies the strings fields point at into one allocation and
// points the fields at their copies: a table's strings are one object for
// the garbage collector to mark, not one a string. Strings packed together
// are freed together: callers pack what they keep and drop as one (a
// model's roles, its members' ids).
func packStrings(fields []*string) {
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	all, at := b.String(), 0
	for _, f := range fields {
		l := len(*f)
		*f = all[at : at+l]
		at += l
	}
}
