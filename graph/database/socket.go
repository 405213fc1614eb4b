package database

import (
	"context"
	"net"
	"sync"
	"time"
)

// A stalled network — a frozen server, a partition that drops packets
// silently — leaves lib/pq blocked in a read. When the context of the query
// ends, lib/pq sends a CancelRequest over a new connection, which stalls as
// well, and goes on waiting for an answer that does not come: a request
// would wait past its deadline for as long as the stall lasts, holding its
// pooled connection, and the deadline would not end it with UNAVAILABLE
// (P5).
//
// So a connection's socket is bound to the context of the work on it: when
// that context ends, the socket's deadline is set in the past, the blocked
// read or write fails at once, and lib/pq gives the connection up (the pool
// opens another). A binding lasts from one call with a context to the next:
// a query's rows are read, and a transaction commits, under the context
// they began with; the pool's next use of the connection (ResetSession)
// binds it afresh.

// socketKey carries the *socket a connection being opened fills in.
type socketKey struct{}

// socketDialer dials as net.Dialer does and tells the connection being
// opened its socket, bound to what it is opened for.
type socketDialer struct{ net.Dialer }

func (d *socketDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d *socketDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d *socketDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	s, ok := ctx.Value(socketKey{}).(*socket)
	if !ok {
		return d.dialCancel(ctx, network, address)
	}
	c, err := d.Dialer.DialContext(ctx, network, address)
	if err == nil {
		// lib/pq's startup reads without a context: the connection is
		// bound to the one it is opened for (not to ctx, which lib/pq
		// ends as soon as the dial returns).
		s.conn = c
		s.bind(s.opening)
	}
	return c, err
}

// cancelBound bounds a CancelRequest: lib/pq sends one when a query's
// context ends, and the query returns only once it is sent and answered,
// for up to 10 s. On a healthy network that takes a round trip; on a
// stalled one it cannot arrive at all, and the query's caller would wait
// the 10 s past its deadline.
const cancelBound = time.Second

// dialCancel opens the connection of a CancelRequest (the only dial lib/pq
// makes without a connection being opened) with cancelBound for all of it.
func (d *socketDialer) dialCancel(ctx context.Context, network, address string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cancelBound)
	defer cancel()
	c, err := d.Dialer.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	bc := boundedConn{Conn: c, bound: deadline}
	_ = bc.SetDeadline(deadline)
	return bc, nil
}

// boundedConn is a connection no deadline set on it can take past bound
// (lib/pq sets its connect_timeout's on the connections it dials).
type boundedConn struct {
	net.Conn
	bound time.Time
}

func (c boundedConn) clamp(t time.Time) time.Time {
	if t.IsZero() || t.After(c.bound) {
		return c.bound
	}
	return t
}

func (c boundedConn) SetDeadline(t time.Time) error      { return c.Conn.SetDeadline(c.clamp(t)) }
func (c boundedConn) SetReadDeadline(t time.Time) error  { return c.Conn.SetReadDeadline(c.clamp(t)) }
func (c boundedConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.clamp(t)) }

// socket is a connection's network socket, bound to the context of the work
// on it.
type socket struct {
	opening context.Context // what the connection is opened for
	conn    net.Conn        // nil when lib/pq dialed it otherwise: nothing is bound
	mu      sync.Mutex
	gen     uint64 // bumped by every binding: an earlier one's end changes nothing
	expired bool   // the deadline is in the past
	stop    func() bool
}

// longAgo is a deadline that has passed.
var longAgo = time.Unix(1, 0)

// bind makes the end of ctx end the socket's reads and writes, in place of
// the end of what it was bound to before.
func (s *socket) bind(ctx context.Context) {
	if s.conn == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
	s.gen++
	if s.expired {
		// The work before ended while the connection was idle: nothing
		// was cut, and the connection is fine for the next.
		_ = s.conn.SetDeadline(time.Time{})
		s.expired = false
	}
	if ctx.Done() == nil {
		return
	}
	gen := s.gen
	s.stop = context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.gen == gen {
			s.expired = true
			_ = s.conn.SetDeadline(longAgo)
		}
	})
}
