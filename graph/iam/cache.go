package iam

import (
	"sync"
	"time"
)

// cache keeps each account's compiled Model in memory across requests, so a
// decision needs no SQL once warm. Every commit invalidates the account it
// changed (all accounts for catalog-wide changes) before the next request can
// read it: read-your-writes on one server (D6). On PostgreSQL other servers
// hear of each commit through NOTIFY (see graph/database.Listen), and a TTL
// bounds staleness should a notification be lost.
type cache struct {
	ttl    time.Duration
	mu     sync.Mutex
	models map[string]cached
	gens   map[string]uint64 // per-account generation
	global uint64            // bumped when every account is invalidated
}

type cached struct {
	model      *Model
	gen, globl uint64
	loaded     time.Time
}

// stamp is the state a load starts from; a load finishing after an
// invalidation must not store what it read.
type stamp struct{ gen, global uint64 }

func newCache() *cache {
	return &cache{models: map[string]cached{}, gens: map[string]uint64{}}
}

func (c *cache) get(accountID string) (*Model, stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := stamp{c.gens[accountID], c.global}
	if e, ok := c.models[accountID]; ok && e.gen == st.gen && e.globl == st.global &&
		(c.ttl <= 0 || time.Since(e.loaded) < c.ttl) {
		return e.model, st
	}
	return nil, st
}

func (c *cache) put(accountID string, m *Model, st stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[accountID] == st.gen && c.global == st.global {
		c.models[accountID] = cached{model: m, gen: st.gen, globl: st.global, loaded: time.Now()}
	}
}

// invalidate forgets one account, or every account when accountID is "".
func (c *cache) invalidate(accountID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if accountID == "" {
		c.global++
		clear(c.models)
		return
	}
	c.gens[accountID]++
	delete(c.models, accountID)
}
