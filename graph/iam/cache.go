package iam

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// DefaultCacheBytes is how much memory a server's models may take unless
// told: a warm account of 20 roles and 50 members, every member compiled,
// counts 44 KB (Model.size: what the process holds for it), so some twelve
// thousand accounts.
const DefaultCacheBytes = 512 << 20

// cache keeps compiled account Models in memory across requests, so that a
// decision needs no SQL once warm. A model is valid for the revision it was
// read at (the heads of its account's and of the platform's audit chains),
// not for a time:
//
//   - a commit on this server invalidates its account before the next
//     request can read it (read-your-writes, D6);
//   - the change feed (Follow) reports what other servers committed, and a
//     model older than a reported head is dropped;
//   - a model is used only while the feed has confirmed, within maxStale,
//     that nothing newer is known to exist: when the database cannot be
//     reached, decisions fail closed instead of aging (P5).
//
// The cache is bounded (least recently used), and concurrent misses of one
// account share one load.
type cache struct {
	mu     sync.Mutex
	models *lru.Cache[string, *Model]
	// bytes is the models' estimated size; budget bounds it (least recently
	// used models go first).
	bytes, budget int64
	gens          map[string]uint64 // per-account generation, bumped by each local commit
	global        uint64            // bumped when every account is invalidated
	// known are the newest heads the feed reported: a model read before
	// them is stale, whenever it finishes loading.
	known         map[string]int64
	knownPlatform int64
	// committing counts, per account, this server's changes between their
	// commit and the install of the model they leave (see commit).
	committing map[string]int
	flight     singleflight.Group
	// confirmed is when the feed last read the change sequence (unix nanos):
	// every change committed before it is known. maxStale bounds its age;
	// zero means no feed runs and this server is the only writer.
	confirmed atomic.Int64
	maxStale  time.Duration
	obs       Observer
}

// stamp is the state a load starts from: a load finishing after a local
// invalidation must not store what it read, and loads started before and
// after one never share a result (read-your-writes). A load that finishes
// older than a change the feed reported meanwhile is neither kept nor used
// (put, current).
type stamp struct{ gen, global uint64 }

func (st stamp) flightKey(accountID string) string {
	return fmt.Sprintf("%s@%d/%d", accountID, st.gen, st.global)
}

func newCache(budget int64) *cache {
	if budget <= 0 {
		budget = DefaultCacheBytes
	}
	c := &cache{gens: map[string]uint64{}, known: map[string]int64{}, committing: map[string]int{}, budget: budget, obs: nopObserver{}}
	// The count is no bound (every account fits); the budget is (add).
	c.models, _ = lru.NewWithEvict[string, *Model](math.MaxInt32, func(_ string, m *Model) { c.bytes -= m.size() })
	return c
}

// add caches a model, then evicts the least recently used models until the
// cache fits its budget again. c.mu is held.
func (c *cache) add(accountID string, m *Model) {
	c.models.Add(m.Account.ID, m) // the model's id, not the caller's (see owned)
	c.bytes += m.size()
	c.fit()
}

// grew counts n more bytes of m's (a key it remembers): the cache's budget
// counts them while m is cached, and evicts the least recently used models
// to fit. Counted only at add, a model's memo of its account's keys grew
// past the budget unseen (an account of 100,000 keys: 100 MB).
func (c *cache) grew(m *Model, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m.keyBytes += n // under c.mu: the eviction's m.size() must see it or not, with c.bytes
	if cached, ok := c.models.Peek(m.Account.ID); ok && cached == m {
		c.bytes += n
		c.fit()
	}
}

// fit evicts the least recently used models until the cache fits its
// budget again (one always stays). c.mu is held.
func (c *cache) fit() {
	for c.bytes > c.budget && c.models.Len() > 1 {
		c.models.RemoveOldest()
		c.obs.ModelsEvicted(1)
	}
}

// fresh reports whether cached models may be used now.
func (c *cache) fresh() bool {
	if c.maxStale <= 0 {
		return true
	}
	return time.Since(time.Unix(0, c.confirmed.Load())) <= c.maxStale
}

// confirm records that every change committed before at is known.
func (c *cache) confirm(at time.Time) { c.confirmed.Store(at.UnixNano()) }

func (c *cache) stamp(accountID string) stamp {
	return stamp{c.gens[accountID], c.global}
}

func (c *cache) get(accountID string) (*Model, stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, _ := c.models.Get(accountID)
	return m, c.stamp(accountID)
}

// current reports whether m is at least as new as every change known.
func (c *cache) current(accountID string, m *Model) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.newest(accountID, m)
}

// newest is current for a caller holding c.mu.
func (c *cache) newest(accountID string, m *Model) bool {
	return m.seq >= c.known[accountID] && m.platformSeq >= c.knownPlatform
}

func (c *cache) put(accountID string, m *Model, st stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[accountID] == st.gen && c.global == st.global && c.newest(accountID, m) {
		c.add(accountID, m)
	}
}

// at returns the cached model of an account if it was read at exactly these
// heads (the write gate's check; the account is locked meanwhile).
func (c *cache) at(accountID string, seq, platformSeq int64) *Model {
	m, _ := c.get(accountID)
	if m != nil && m.seq == seq && m.platformSeq == platformSeq {
		return m
	}
	return nil
}

// globalGen is the generation of whole-cache invalidations.
func (c *cache) globalGen() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.global
}

// replace installs the model a local commit left its account with, as an
// invalidation would drop the old one — unless every model was invalidated
// since global was read (a catalog change), or the feed reported a newer
// change meanwhile. It returns how many models it dropped (0 or 1).
func (c *cache) replace(accountID string, m *Model, global uint64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens[owned(c.gens, accountID)]++
	n := 0
	if c.models.Remove(accountID) {
		n = 1
	}
	if c.global == global && c.newest(accountID, m) {
		c.add(accountID, m)
	}
	return n
}

// invalidate forgets one account, or every account when accountID is "",
// and returns how many models it dropped.
func (c *cache) invalidate(accountID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if accountID == "" {
		c.global++
		n := c.models.Len()
		c.models.Purge()
		return n
	}
	c.gens[owned(c.gens, accountID)]++
	if c.models.Remove(accountID) {
		return 1
	}
	return 0
}

// heardPlatform records that the platform's chain up to seq is known
// without the feed: this server committed it and already dropped every
// model. (An account's commit needs no such record: it leaves a model at
// its own seq, which the feed's report of it keeps.)
func (c *cache) heardPlatform(seq int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.knownPlatform = max(c.knownPlatform, seq)
}

// commit marks a change of this server's to an account as committing, from
// just before its commit until settle, which the committer calls once it
// has replaced (or invalidated) the account's model. Meanwhile the feed —
// woken at once by the commit's own notification — does not drop the
// account's model: the old one, as the account was until the commit, serves
// the requests in between instead of each reading the model again. settle
// then drops the model if the feed reported a change newer than it and
// nothing replaced it (a failed commit, a later commit of another server).
func (c *cache) commit(accountID string) (settle func()) {
	c.mu.Lock()
	c.committing[accountID]++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.committing[accountID]--; c.committing[accountID] == 0 {
			delete(c.committing, accountID)
		}
		if m, ok := c.models.Peek(accountID); ok && m.seq < c.known[accountID] {
			c.models.Remove(accountID)
		}
	}
}

// reported is advanced for the change feed's report, but a model this
// server is replacing after its own commit stays until the committer
// replaces it, or settles (see commit). Whoever must read a model as new as
// seq (a subscription about to deliver the event) calls advanced.
func (c *cache) reported(accountID string, seq int64) (news bool, dropped int) {
	return c.learn(accountID, seq, true)
}

// advanced handles news that a chain's newest event is seq (the feed's, or
// a subscription's that read the event): models read before it are dropped, and loads that started before it will
// not be kept ("" is the platform's chain, which every model depends on). A
// model already at seq, such as one read after this server's own commit,
// stays.
//
// It reports whether seq is news (the feed may report a change again), and
// how many models it dropped.
func (c *cache) advanced(accountID string, seq int64) (news bool, dropped int) {
	return c.learn(accountID, seq, false)
}

// learn records that a chain's newest event is seq and drops the models
// older than it, but for a committing account's when spareCommitting.
func (c *cache) learn(accountID string, seq int64, spareCommitting bool) (news bool, dropped int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if accountID == "" {
		news = seq > c.knownPlatform
		c.knownPlatform = max(c.knownPlatform, seq)
		for _, k := range c.models.Keys() {
			if m, ok := c.models.Peek(k); ok && m.platformSeq < seq {
				c.models.Remove(k)
				dropped++
			}
		}
		return news, dropped
	}
	news = seq > c.known[accountID]
	c.known[owned(c.known, accountID)] = max(c.known[accountID], seq)
	if spareCommitting && c.committing[accountID] > 0 {
		return news, 0
	}
	if m, ok := c.models.Peek(accountID); ok && m.seq < seq {
		c.models.Remove(accountID)
		dropped++
	}
	return news, dropped
}

// owned is key as a new key of m: a copy. Callers pass account ids that are
// slices of a request's document (an argument's value), which a key of these
// maps, never pruned, would keep for as long as the server runs.
func owned[V any](m map[string]V, key string) string {
	if _, ok := m[key]; ok {
		return key
	}
	return strings.Clone(key)
}
