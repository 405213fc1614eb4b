package database

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/lib/pq"
)

// A PostgreSQL statement with arguments costs lib/pq two round trips: Parse
// and Describe, then Bind and Execute. Inside a change's transaction each
// round trip is time the account's lock is held (a createRole sends four
// such statements under it). The statement cache keeps each connection's
// statements prepared, under names of their own, so that a statement the
// connection has sent before costs one round trip: Bind and Execute.
// Statements without arguments already take one (the simple protocol) and
// pass through.
//
// Named statements live as long as the server's session: a pooler that
// hands one session's statements to another (PgBouncer in transaction mode
// before 1.21) needs the cache off (GATEHOUSE_DB_NO_STATEMENT_CACHE=true).

// stmtCacheSize bounds the statements a connection keeps. Beyond it the
// least recently used leaves the cache without being closed (closing costs
// a round trip of its own); a connection that has let go of as many retires
// when it is next returned to the pool, which frees them all on the server.
// So a connection holds at most twice this many, and a workload of more
// distinct statements (ent's IN lists vary with their length) costs a
// reconnection every few hundred of them, not a round trip each.
const stmtCacheSize = 256

// cachingConnector hands out lib/pq connections that keep their statements
// (unless noCache) and whose sockets obey the contexts of the work on them
// (socket.go).
type cachingConnector struct {
	*pq.Connector
	noCache bool
}

// newCachingConnector is cachingConnector for dsn.
func newCachingConnector(dsn string, noCache bool) (cachingConnector, error) {
	pc, err := pq.NewConnector(dsn)
	if err != nil {
		return cachingConnector{}, err
	}
	pc.Dialer(&socketDialer{})
	return cachingConnector{Connector: pc, noCache: noCache}, nil
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	sock := &socket{opening: ctx}
	pc, err := connectAs[pqConn](context.WithValue(ctx, socketKey{}, sock), c.Connector, "lib/pq")
	sock.opening = nil // the connection outlives what it was opened for
	if err != nil {
		return nil, err
	}
	c2 := &cachingConn{pqConn: pc, sock: sock}
	if !c.noCache {
		c2.stmts, _ = simplelru.NewLRU(stmtCacheSize, c2.evicted)
	}
	return c2, nil
}

// connectAs opens a connection of the driver a statement cache wraps.
func connectAs[C driver.Conn](ctx context.Context, connector driver.Connector, driverName string) (C, error) {
	conn, err := connector.Connect(ctx)
	if err != nil {
		var none C
		return none, err
	}
	c, ok := conn.(C)
	if !ok {
		_ = conn.Close()
		return c, errors.New("database: the statement cache needs " + driverName + "'s connection")
	}
	return c, nil
}

// pqConn is what database/sql uses of a lib/pq connection; cachingConn
// passes all of it through but for queries and executions with arguments.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.NamedValueChecker
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is used by one goroutine at a time, as database/sql uses any
// connection: its cache needs no lock.
type cachingConn struct {
	pqConn
	sock  *socket
	stmts *simplelru.LRU[string, driver.Stmt] // query → its prepared statement; nil: no cache
	// dropped counts the statements let go of but still prepared on the
	// server (see stmtCacheSize).
	dropped int
	// lost: the server no longer has this session's statements (a pooler
	// switched sessions, or someone ran DEALLOCATE); the connection is
	// given up, and the statement retried on another when database/sql can.
	lost bool
}

func (c *cachingConn) evicted(string, driver.Stmt) { c.dropped++ }

// retired: the pool should close this connection rather than reuse it.
func (c *cachingConn) retired() bool { return c.lost || c.dropped >= stmtCacheSize }

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.sock.bind(ctx)
	if len(args) == 0 || c.stmts == nil {
		return c.pqConn.QueryContext(ctx, query, args)
	}
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, args)
	return rows, c.check(err)
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.sock.bind(ctx)
	if len(args) == 0 || c.stmts == nil {
		return c.pqConn.ExecContext(ctx, query, args)
	}
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.(driver.StmtExecContext).ExecContext(ctx, args)
	return res, c.check(err)
}

// prepared returns query's statement on this connection, preparing it the
// first time.
func (c *cachingConn) prepared(ctx context.Context, query string) (driver.Stmt, error) {
	if c.lost {
		return nil, driver.ErrBadConn
	}
	if st, ok := c.stmts.Get(query); ok {
		return st, nil
	}
	st, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts.Add(query, st)
	return st, nil
}

// check turns the server's "no such prepared statement" into a bad
// connection: the statement did not run, and database/sql retries it on
// another connection outside a transaction (inside one, the transaction
// fails, as it would on any broken connection).
func (c *cachingConn) check(err error) error {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "26000" { // invalid_sql_statement_name
		c.lost = true
		return driver.ErrBadConn
	}
	return err
}

// IsValid and ResetSession keep a retired connection out of the pool.
func (c *cachingConn) IsValid() bool { return !c.retired() && c.pqConn.IsValid() }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if c.retired() {
		return driver.ErrBadConn
	}
	c.sock.bind(ctx)
	return c.pqConn.ResetSession(ctx)
}

// The other calls that reach the server bind the socket too.

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.sock.bind(ctx)
	return c.pqConn.PrepareContext(ctx, query)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.sock.bind(ctx)
	return c.pqConn.BeginTx(ctx, opts)
}

func (c *cachingConn) Ping(ctx context.Context) error {
	c.sock.bind(ctx)
	return c.pqConn.Ping(ctx)
}

// Close unbinds the socket, so that the connection says goodbye to the server
// even when the last work on it has ended, and nothing waits on that work's
// context any more.
func (c *cachingConn) Close() error {
	c.sock.bind(context.Background())
	return c.pqConn.Close()
}
