package iam

import (
	"context"
	"sync"

	"github.com/gatehouse-iam/gatehouse/graph/apperr"
)

// writerQueue lets one change per account at a time go to the database; the
// others wait here, holding no pooled connection. Without it, changes piling
// up behind one account's lock (a slow or stuck transaction) would each hold
// a connection while they wait, until the pool is empty and every other
// account waits too (P5).
type writerQueue struct {
	mu    sync.Mutex
	slots map[string]*writerSlot
}

type writerSlot struct {
	token   chan struct{} // holds one value while a change has the account
	waiters int
}

// wait takes the account's slot, or fails with ACCOUNT_BUSY when ctx ends
// first; the returned func gives the slot back.
func (q *writerQueue) wait(ctx context.Context, accountID string) (func(), error) {
	q.mu.Lock()
	if q.slots == nil {
		q.slots = map[string]*writerSlot{}
	}
	s := q.slots[accountID]
	if s == nil {
		s = &writerSlot{token: make(chan struct{}, 1)}
		q.slots[accountID] = s
	}
	s.waiters++
	q.mu.Unlock()
	done := func() {
		q.mu.Lock()
		if s.waiters--; s.waiters == 0 {
			delete(q.slots, accountID)
		}
		q.mu.Unlock()
	}
	select {
	case s.token <- struct{}{}:
		return func() { <-s.token; done() }, nil
	case <-ctx.Done():
		done()
		return nil, apperr.Busy(ctx.Err())
	}
}
