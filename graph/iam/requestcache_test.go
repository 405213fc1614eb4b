package iam

import "testing"

// A request's access cache keeps its first account outside the map: every
// account still reads back what was put, and dropping one (a commit in it)
// or all forgets exactly that.
func TestRequestCache_AccountsPutGetAndDrop(t *testing.T) {
	var c requestCache
	a, b, d := &Access{}, &Access{}, &Access{}
	c.put("acc_a", a)
	c.put("acc_b", b)
	c.put("acc_d", d)
	for id, want := range map[string]*Access{"acc_a": a, "acc_b": b, "acc_d": d} {
		if got, ok := c.get(id); !ok || got != want {
			t.Fatalf("get(%s) = %p, %v; want %p", id, got, ok, want)
		}
	}
	if _, ok := c.get("acc_x"); ok {
		t.Fatal("an account never put was found")
	}
	c.drop("acc_a")
	if _, ok := c.get("acc_a"); ok {
		t.Fatal("the first account was not dropped")
	}
	if got, ok := c.get("acc_b"); !ok || got != b {
		t.Fatal("dropping one account dropped another")
	}
	a2 := &Access{}
	c.put("acc_a", a2) // back in the free first slot
	c.put("acc_a", a)  // and replaced there
	if got, _ := c.get("acc_a"); got != a {
		t.Fatal("a second put of an account did not replace the first")
	}
	c.drop("")
	for _, id := range []string{"acc_a", "acc_b", "acc_d"} {
		if _, ok := c.get(id); ok {
			t.Fatalf("%s survived dropping every account", id)
		}
	}
}
