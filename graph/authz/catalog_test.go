package authz

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// Issue 13, "the cache is bounded by memory": a catalog keeps the policy of
// a master list only while a model uses it. It kept every policy it had
// compiled until the catalog itself changed: each master list edited, and
// each account evicted from the model cache, left its policy behind, beyond
// GATEHOUSE_MODEL_CACHE_MB. Accounts with the same list still share one.
func TestCatalog_KeepsAPolicyOnlyWhileItIsUsed(t *testing.T) {
	var perms []Permission
	for i := range 12 {
		perms = append(perms, Permission{Key: fmt.Sprintf("app.p%d", i), Kind: Grant})
	}
	c := NewCatalog(perms)
	master := func(bits int) []string {
		var keys []string
		for i := range 12 {
			if bits&(1<<i) != 0 {
				keys = append(keys, perms[i].Key)
			}
		}
		return keys
	}
	kept := c.Policy(master(1))
	for bits := 2; bits < 1002; bits++ {
		c.Policy(master(bits)) // a model of a list that is then evicted
	}
	if again := c.Policy(master(1)); again != kept {
		t.Fatal("two models of one master list do not share its policy")
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.compiled() > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the catalog still holds %d policies; only one is used", c.compiled())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if again := c.Policy(master(1)); again != kept {
		t.Fatal("the policy in use was dropped")
	}
	runtime.KeepAlive(kept)
}

// compiled is how many policies the catalog holds.
func (c *Catalog) compiled() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.policies)
}
