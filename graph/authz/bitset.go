package authz

import "math/bits"

// bitset is a set of a policy's GRANT keys, by their position in the sorted
// master list: a role of a hundred keys is two words, not a map.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int32)   { b[i/64] |= 1 << (uint(i) % 64) }
func (b bitset) clear(i int32) { b[i/64] &^= 1 << (uint(i) % 64) }
func (b bitset) has(i int32) bool {
	return i >= 0 && int(i/64) < len(b) && b[i/64]&(1<<(uint(i)%64)) != 0
}

// or adds every member of o to b (same length).
func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

// count is the number of members.
func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// rank is the number of members below i.
func (b bitset) rank(i int32) int {
	w := int(i / 64)
	n := bits.OnesCount64(b[w] & (1<<(uint(i)%64) - 1))
	for _, x := range b[:w] {
		n += bits.OnesCount64(x)
	}
	return n
}

// each calls fn for every member, in increasing order.
func (b bitset) each(fn func(i int32)) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			fn(int32(wi*64 + t))
			w &= w - 1
		}
	}
}

// keys returns the members' keys, sorted (grants is sorted).
func (b bitset) keys(grants []string) []string {
	out := make([]string, 0, b.count())
	b.each(func(i int32) { out = append(out, grants[i]) })
	return out
}
