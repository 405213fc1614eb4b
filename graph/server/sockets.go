package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// socketLimit bounds the WebSockets open on a server: max per principal
// once authenticated, and max per client address until then (a connection
// has 10 s to send connection_init). The rate limit bounds how fast a
// client opens connections; this bounds how many it keeps, each a
// connection, its goroutines and their buffers for as long as it lasts:
// a principal could keep every connection it opened at its request rate.
type socketLimit struct {
	max int
	met *metrics

	mu   sync.Mutex
	open map[string]int // by socketSlot.key
}

func newSocketLimit(max int, met *metrics) *socketLimit {
	return &socketLimit{max: max, met: met, open: map[string]int{}}
}

// socketSlot is one connection's place: under its client address, then
// under its principal once connection_init authenticates it.
type socketSlot struct {
	l   *socketLimit
	key string
}

type socketSlotKey struct{}

// take counts a connection under key, unless key has max already.
func (l *socketLimit) take(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] >= l.max {
		l.met.limited.WithLabelValues("sockets").Inc()
		return false
	}
	l.open[key]++
	return true
}

func (l *socketLimit) give(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// admit counts an upgrade under its client address for as long as its
// connection lasts, or refuses it with 429 when the address has max
// connections that have not authenticated yet.
func (l *socketLimit) admit(ws http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := &socketSlot{l: l, key: "address " + auth.MetaFrom(r.Context()).ClientAddr}
		if !l.take(s.key) {
			auth.RateLimited(w, time.Second, "too many WebSocket connections from this address awaiting connection_init")
			return
		}
		defer func() { l.give(s.moved("")) }()
		ws.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), socketSlotKey{}, s)))
	})
}

// moved moves s under key and returns the key it was under.
func (s *socketSlot) moved(key string) string {
	s.l.mu.Lock()
	defer s.l.mu.Unlock()
	was := s.key
	s.key = key
	return was
}

// authenticate moves ctx's connection from its address to principal, or
// reports false when principal has max connections already.
func authenticate(ctx context.Context, principal string) bool {
	s, _ := ctx.Value(socketSlotKey{}).(*socketSlot)
	if s == nil {
		return true // not an upgrade admit counted
	}
	key := "principal " + principal
	if !s.l.take(key) {
		return false
	}
	s.l.give(s.moved(key))
	return true
}
