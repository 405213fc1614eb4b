package iam

import "strings"

// packStrings copies the strings fields point at into one allocation and
// points the fields at their copies. A model's rows are read among the
// garbage of reading them: a dozen small strings a row, each in a span
// whose other slots are garbage, kept the spans from being freed after a
// collection (a warm model took twice its live bytes of heap). Packed,
// they take one allocation a table. Strings packed together are freed
// together: callers pack what they keep and drop as one.
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
