package iam

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// DefaultCacheSize is how many accounts' models a server keeps unless told.
const DefaultCacheSize = 1000

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
	gens   map[string]uint64 // per-account generation, bumped by each invalidation
	global uint64            // bumped when every account is invalidated
	flight singleflight.Group
	// confirmed is when the feed last read the change sequence (unix nanos):
	// every change committed before it is known. maxStale bounds its age;
	// zero means no feed runs and this server is the only writer.
	confirmed atomic.Int64
	maxStale  time.Duration
}

// stamp is the state a load starts from; a load finishing after an
// invalidation must not store what it read.
type stamp struct{ gen, global uint64 }

// flightKey names a load: loads started before and after an invalidation
// never share a result.
func (st stamp) flightKey(accountID string) string {
	return accountID + "@" + strconv.FormatUint(st.gen, 10) + "/" + strconv.FormatUint(st.global, 10)
}

func newCache(size int) *cache {
	if size <= 0 {
		size = DefaultCacheSize
	}
	models, _ := lru.New[string, *Model](size)
	return &cache{models: models, gens: map[string]uint64{}}
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

func (c *cache) get(accountID string) (*Model, stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := stamp{c.gens[accountID], c.global}
	m, _ := c.models.Get(accountID)
	return m, st
}

func (c *cache) put(accountID string, m *Model, st stamp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[accountID] == st.gen && c.global == st.global {
		c.models.Add(accountID, m)
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

// invalidate forgets one account, or every account when accountID is "".
func (c *cache) invalidate(accountID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if accountID == "" {
		c.global++
		c.models.Purge()
		return
	}
	c.gens[accountID]++
	c.models.Remove(accountID)
}

// advanced handles the feed's report that a chain's newest event is seq:
// models read before it are dropped ("" is the platform chain, which every
// model depends on). A model already at seq, such as one read after this
// server's own commit, stays.
func (c *cache) advanced(accountID string, seq int64) {
	c.mu.Lock()
	m, ok := c.models.Peek(accountID)
	if accountID == "" {
		ok = c.models.Len() > 0
		for _, k := range c.models.Keys() {
			if m, _ := c.models.Peek(k); m != nil && m.platformSeq < seq {
				ok = false
			}
		}
	}
	c.mu.Unlock()
	if ok && (accountID == "" || m.seq >= seq) {
		return
	}
	c.invalidate(accountID)
}
