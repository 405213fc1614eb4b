package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Class is what a storage error means for the request that met it.
type Class int

// The classes of storage errors.
const (
	// Other is a bug or a constraint: nothing a retry would change.
	Other Class = iota
	// Unavailable is an outage: the database is down, restarting,
	// unreachable or too slow, or the pool had no connection in time.
	Unavailable
	// Busy is a lock that was not granted in time: another transaction
	// holds the account.
	Busy
)

// ErrPoolTimeout is returned when no pooled connection frees up in time.
var ErrPoolTimeout = errors.New("database: no connection available in time")

// NoData reports PostgreSQL's no_data_found (P0002): Gatehouse's functions
// raise it for a row that does not exist (gatehouse_lock_account).
func NoData(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "P0002"
}

// Classify tells outages and lock timeouts from other storage errors (P5).
func Classify(err error) Class {
	if err == nil {
		return Other
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		code := string(pqErr.Code)
		switch {
		case code == "55P03": // lock_not_available: lock_timeout
			return Busy
		case strings.HasPrefix(code, "08"), // connection exceptions
			strings.HasPrefix(code, "53"),                     // insufficient resources (too many connections)
			strings.HasPrefix(code, "57P"),                    // admin or crash shutdown, cannot connect now
			code == "57014",                                   // query_canceled: statement_timeout or a deadline
			code == "40001", code == "40P01", code == "25006": // serialization, deadlock, read-only standby
			return Unavailable
		}
		return Other
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return Busy
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL, sqlite3.SQLITE_INTERRUPT:
			return Unavailable
		}
		return Other
	}
	var netErr net.Error
	switch {
	case errors.Is(err, ErrPoolTimeout), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), // a connection closed under a query
		errors.As(err, &netErr):
		return Unavailable
	}
	// lib/pq reports a connection closed under it as plain errors.
	msg := err.Error()
	for _, s := range []string{"driver: bad connection", "connection refused", "broken pipe", "unexpected EOF", "connection reset"} {
		if strings.Contains(msg, s) {
			return Unavailable
		}
	}
	return Other
}
