package generated

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// stringList writes what gqlgen's graphql.Array of graphql.MarshalString
// writes, escapes included, and allocates once per list.
func TestStringList_WritesWhatGqlgenWrites(t *testing.T) {
	for _, v := range [][]string{nil, {}, {""}, {"a"}, {"iam.roles.read", "billing:*", "*"},
		{`quote " and \ backslash`, "tab\tnewline\nreturn\r", "\x00\x01\x1f control", "é ü 漢字 🙂", "<b>&amp;</b>"},
		{"invalid \xff\xfe UTF-8", "\xc3", "\u2028\u2029 \x7f", `\"\"`, "end\\"}} {
		want := make(graphql.Array, len(v))
		for i, s := range v {
			want[i] = graphql.MarshalString(s)
		}
		var got, exp bytes.Buffer
		stringList(v).MarshalGQL(&got)
		want.MarshalGQL(&exp)
		if got.String() != exp.String() {
			t.Errorf("stringList(%q) = %s, gqlgen writes %s", v, got.String(), exp.String())
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		var got, exp bytes.Buffer
		stringList([]string{string(b)}).MarshalGQL(&got)
		graphql.Array{graphql.MarshalString(string(b))}.MarshalGQL(&exp)
		if got.String() != exp.String() {
			t.Fatalf("stringList(%q) = %s, gqlgen writes %s", b, got.String(), exp.String())
		}
	}
	v := []string{"a", "b", "c", "d"}
	var buf bytes.Buffer
	buf.Grow(64)
	if n := testing.AllocsPerRun(100, func() { buf.Reset(); stringList(v).MarshalGQL(&buf) }); n > 1 {
		t.Errorf("stringList allocates %v times for 4 strings; want 1", n)
	}
}
