package apitest

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

// totalStatements is every statement the server has sent so far.
func (e *env) totalStatements() int64 {
	return e.counter.Total()
}

// coldDecisions sends n decisions at once and returns the statements they
// cost together.
func coldDecisions(t *testing.T, e *env, n int, key string, in map[string]any) int64 {
	t.Helper()
	before := e.totalStatements()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			if r := e.gql(key, authorize, map[string]any{"in": in}); r.Status != http.StatusOK || r.Get("errors").Exists() {
				t.Errorf("decision: %s", r)
			}
		})
	}
	close(start)
	wg.Wait()
	return e.totalStatements() - before
}

// P5: concurrent misses of one account share one load of its model: 20
// decisions arriving together right after the model was dropped cost what
// one does.
func TestP5_ConcurrentMissesShareOneLoad(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("flight", nil)
		key := e.ownerKey(a)
		in := map[string]any{"accountId": a.ID, "permission": "AgentChat"}
		e.ok(key, authorize, map[string]any{"in": in})
		one := int64(0)
		for _, n := range []int{1, 20} {
			// Dropped as another server's change drops it. (A change on this
			// server keeps the model current: no decision after it is cold.)
			e.Server.Service.Invalidate(a.ID)
			got := coldDecisions(t, e, n, key, in)
			if n == 1 {
				if one = got; one == 0 {
					t.Fatal("a decision on a dropped model sent no statement: the model was not dropped")
				}
				continue
			}
			t.Logf("statements: 1 cold decision %d, 20 concurrent cold decisions %d", one, got)
			if got > 2*one {
				t.Errorf("20 concurrent cold decisions sent %d statements; one sends %d", got, one)
			}
		}
	})
}

// P5: the model cache is bounded by memory: with room for about two small
// accounts, a third evicts the least recently used, which is then read again.
func TestP5_ModelCacheIsBounded(t *testing.T) {
	forEachDBWith(t, server.Config{ModelCacheMB: 16.0 / 1024}, func(t *testing.T, e *env) {
		keys := make([]string, 3)
		ins := make([]map[string]any, 3)
		for i := range keys {
			a := e.newAccount(fmt.Sprintf("lru%d", i), nil)
			keys[i] = e.ownerKey(a)
			ins[i] = map[string]any{"accountId": a.ID, "permission": "AgentChat"}
		}
		cost := func(i int) int64 {
			_, n := e.statementsOf(keys[i], authorize, map[string]any{"in": ins[i]})
			return n
		}
		cost(0)
		cost(1)
		if n := cost(0); n != 0 {
			t.Fatalf("account 0 should be cached: %d statements", n)
		}
		cost(2) // evicts account 1, the least recently used
		if n := cost(0); n != 0 {
			t.Errorf("account 0 was used more recently than 1: %d statements", n)
		}
		if n := cost(1); n == 0 {
			t.Error("account 1 should have been evicted")
		}
	})
}

// P5: the model cache's budget counts the API keys a model remembers, which
// grow as keys are used (about 1 KB each): the least recently used models
// are evicted to fit. Counted only when a model was cached, an account's
// keys grew past the budget unseen.
func TestP5_TheCacheBudgetCountsTheKeysAModelRemembers(t *testing.T) {
	forEachDBWith(t, server.Config{ModelCacheMB: 16.0 / 1024}, func(t *testing.T, e *env) {
		a, b := e.newAccount("kma", nil), e.newAccount("kmb", nil)
		keyA, inA := e.ownerKey(a), map[string]any{"in": map[string]any{"accountId": a.ID, "permission": "AgentChat"}}
		var keysB []string
		for i := range 12 {
			r := e.createKey(b.Owner, map[string]any{"accountId": b.ID, "name": fmt.Sprint("k", i)})
			keysB = append(keysB, r.Get("data.createApiKey.secret").String())
		}
		e.statementsOf(keyA, authorize, inA)
		if _, n := e.statementsOf(keyA, authorize, inA); n != 0 {
			t.Fatalf("account A should be cached: %d statements", n)
		}
		for _, k := range keysB { // account B's model remembers each
			if r := e.gql(k, `{ viewer { kind } }`, nil); r.Status != http.StatusOK {
				t.Fatalf("B's key: %s", r)
			}
		}
		if _, n := e.statementsOf(keyA, authorize, inA); n == 0 {
			t.Error("account A is still cached: the 12 keys B's model remembers were not counted against the budget")
		}
	})
}
