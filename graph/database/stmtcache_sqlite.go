package database

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"modernc.org/sqlite"
)

// SQLite parses and plans a statement each time it is sent unprepared:
// about a tenth of a createRole's CPU. The SQLite statement cache keeps each
// connection's statements with arguments prepared, so that a statement run
// again is bound and stepped only. Unlike PostgreSQL's, a statement let go
// of is finalized at once (it costs no round trip), and a connection may
// read several result sets at a time: a statement whose rows are still open
// is not run again until they close (the query is then sent unprepared).

// sqliteStmtCacheSize bounds the statements a SQLite connection keeps (a
// few kilobytes each).
const sqliteStmtCacheSize = 64

// sqliteCachingConnector hands out SQLite connections that keep their
// statements.
type sqliteCachingConnector struct{ driver.Connector }

func newSQLiteCachingConnector(dsn string) (driver.Connector, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sqliteCachingConnector{c}, nil
}

func (c sqliteCachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	sc, err := connectAs[sqliteConn](ctx, c.Connector, "modernc.org/sqlite")
	if err != nil {
		return nil, err
	}
	c2 := &sqliteCachingConn{sqliteConn: sc}
	c2.stmts, _ = simplelru.NewLRU(sqliteStmtCacheSize, func(_ string, st *sqliteStmt) { st.release() })
	return c2, nil
}

// sqliteConn is what database/sql uses of a modernc.org/sqlite connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteCachingConn is used by one goroutine at a time (database/sql
// closes a connection's rows under the same lock as it uses it): its cache
// needs no lock of its own.
type sqliteCachingConn struct {
	sqliteConn
	stmts *simplelru.LRU[string, *sqliteStmt] // query → its prepared statement
}

// sqliteStmt is a cached statement; busy while rows it returned are open.
type sqliteStmt struct {
	driver.Stmt
	busy    bool
	evicted bool // let go of while busy: finalized when its rows close
}

// release finalizes the statement once nothing reads it.
func (st *sqliteStmt) release() {
	if st.busy {
		st.evicted = true
		return
	}
	_ = st.Close()
}

func (c *sqliteCachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, err := c.prepared(ctx, query, args)
	if err != nil || st == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := st.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	r, ok := rows.(sqliteRowsTypes)
	if !ok {
		_ = rows.Close()
		return nil, errors.New("database: the statement cache needs modernc.org/sqlite's rows")
	}
	st.busy = true
	return &sqliteRows{sqliteRowsTypes: r, st: st}, nil
}

func (c *sqliteCachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, err := c.prepared(ctx, query, args)
	if err != nil || st == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return st.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

// prepared returns query's statement on this connection, preparing it the
// first time; nil when the query goes unprepared: it has no arguments, or
// rows of its statement are still open. An error preparing it is left to
// the unprepared query to report.
func (c *sqliteCachingConn) prepared(ctx context.Context, query string, args []driver.NamedValue) (*sqliteStmt, error) {
	if len(args) == 0 {
		return nil, nil
	}
	if st, ok := c.stmts.Get(query); ok {
		if st.busy {
			return nil, nil
		}
		return st, nil
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st := &sqliteStmt{Stmt: ds}
	c.stmts.Add(query, st)
	return st, nil
}

// Close finalizes the connection's statements before closing it (SQLite
// keeps a connection with live statements open).
func (c *sqliteCachingConn) Close() error {
	c.stmts.Purge()
	return c.sqliteConn.Close()
}

// sqliteRowsTypes is what database/sql uses of modernc.org/sqlite's rows.
type sqliteRowsTypes interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// sqliteRows are rows of a cached statement, which is free again once they
// close.
type sqliteRows struct {
	sqliteRowsTypes
	st *sqliteStmt
}

func (r *sqliteRows) Close() error {
	err := r.sqliteRowsTypes.Close()
	if st := r.st; st != nil {
		r.st, st.busy = nil, false
		if st.evicted {
			_ = st.Close()
		}
	}
	return err
}
