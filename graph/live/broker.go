// Package live wakes the subscribers of an account when its audit chain
// grows (L5). It carries no data: a woken subscriber reads what it has not
// seen from the database, so the change sequence (graph/database.Feed) stays
// the one source of truth, a slow subscriber never holds the broker up, and
// a wake-up that coalesces several commits loses nothing.
package live

import (
	"errors"
	"sync"
	"sync/atomic"
)

// ErrTooMany refuses a subscription beyond the per-principal limit.
var ErrTooMany = errors.New("too many subscriptions")

// Broker registers subscribers by account and wakes them. It is safe for
// concurrent use.
type Broker struct {
	perPrincipal int

	mu          sync.Mutex
	byAccount   map[string]map[*Sub]struct{}
	byPrincipal map[string]int
	done        chan struct{}
	closed      bool

	active    atomic.Int64
	delivered atomic.Int64
	refused   atomic.Int64
}

// New returns a broker allowing perPrincipal subscriptions to each
// principal (no limit when it is not positive).
func New(perPrincipal int) *Broker {
	return &Broker{
		perPrincipal: perPrincipal,
		byAccount:    map[string]map[*Sub]struct{}{},
		byPrincipal:  map[string]int{},
		done:         make(chan struct{}),
	}
}

// Sub is one subscriber of one account.
type Sub struct {
	b                  *Broker
	account, principal string
	wake               chan struct{}
	once               sync.Once
}

// Subscribe registers a subscriber of accountID for principal, or refuses
// it with ErrTooMany when the principal has its limit already.
func (b *Broker) Subscribe(accountID, principal string) (*Sub, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.perPrincipal > 0 && b.byPrincipal[principal] >= b.perPrincipal {
		b.refused.Add(1)
		return nil, ErrTooMany
	}
	s := &Sub{b: b, account: accountID, principal: principal, wake: make(chan struct{}, 1)}
	if b.byAccount[accountID] == nil {
		b.byAccount[accountID] = map[*Sub]struct{}{}
	}
	b.byAccount[accountID][s] = struct{}{}
	b.byPrincipal[principal]++
	b.active.Add(1)
	return s, nil
}

// Changed wakes the subscribers of accountID; "" (the platform's chain:
// operator keys, the catalog) wakes every subscriber, so that each checks
// its credential again. It never blocks: a subscriber already woken stays
// woken once.
func (b *Broker) Changed(accountID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if accountID == "" {
		for _, subs := range b.byAccount {
			wakeAll(subs)
		}
		return
	}
	wakeAll(b.byAccount[accountID])
}

func wakeAll(subs map[*Sub]struct{}) {
	for s := range subs {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Close ends every subscription (the server is stopping): Done is closed.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
}

// Done is closed when the broker is.
func (b *Broker) Done() <-chan struct{} { return b.done }

// Active is the number of subscriptions.
func (b *Broker) Active() int64 { return b.active.Load() }

// Delivered is the number of events delivered so far.
func (b *Broker) Delivered() int64 { return b.delivered.Load() }

// Refused is the number of subscriptions refused by the per-principal limit.
func (b *Broker) Refused() int64 { return b.refused.Load() }

// Limit is the per-principal limit (0: none).
func (b *Broker) Limit() int { return b.perPrincipal }

// Wake fires when the subscriber's account may have changed.
func (s *Sub) Wake() <-chan struct{} { return s.wake }

// Delivered counts n events delivered to the subscriber.
func (s *Sub) Delivered(n int) { s.b.delivered.Add(int64(n)) }

// Close unregisters the subscriber; closing twice is harmless.
func (s *Sub) Close() {
	s.once.Do(func() {
		b := s.b
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.byAccount[s.account], s)
		if len(b.byAccount[s.account]) == 0 {
			delete(b.byAccount, s.account)
		}
		if b.byPrincipal[s.principal]--; b.byPrincipal[s.principal] <= 0 {
			delete(b.byPrincipal, s.principal)
		}
		b.active.Add(-1)
	})
}
