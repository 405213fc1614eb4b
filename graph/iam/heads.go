package iam

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/ent"
)

// link is the newest event of an audit chain: where the next event links.
type link struct {
	seq  int64
	hash string
}

// chainHeads are the newest events of an account's chain and of the
// platform's: together, the revision the account's model is at (D6).
type chainHeads struct {
	account, platform link
}

// querier runs raw queries: an *ent.Client or an *ent.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// headsQuery reads the newest event of the account's chain and of the
// platform's: each the last entry of the (account_id, seq) index, so its cost
// does not grow with the chains (a correlated max(seq) per event did).
const headsQuery = `SELECT * FROM (SELECT account_id, seq, hash FROM audit_events WHERE account_id = ? ORDER BY seq DESC LIMIT 1) a
UNION ALL SELECT * FROM (SELECT account_id, seq, hash FROM audit_events WHERE account_id = '' ORDER BY seq DESC LIMIT 1) p`

// headsQuery in the service's dialect.
func (s *Service) headsQuery() string {
	if s.dialect == dialect.Postgres {
		return strings.Replace(headsQuery, "?", "$1", 1)
	}
	return headsQuery
}

// readHeads reads both heads in one statement.
func (s *Service) readHeads(ctx context.Context, q querier, accountID string) (chainHeads, error) {
	rows, err := q.QueryContext(ctx, s.headsQuery(), accountID)
	if err != nil {
		return chainHeads{}, err
	}
	return scanHeads(rows)
}

// scanHeads reads and closes rows of (account_id, seq, hash), one per chain:
// headsQuery's, or gatehouse_lock_account's (see Service.lock).
func scanHeads(rows *sql.Rows) (chainHeads, error) {
	defer rows.Close()
	var h chainHeads
	for rows.Next() {
		var id string
		var l link
		if err := rows.Scan(&id, &l.seq, &l.hash); err != nil {
			return h, err
		}
		if id == "" {
			h.platform = l
		} else {
			h.account = l
		}
	}
	return h, rows.Err()
}

// txHeads holds, for each transaction of the write gate, the heads it read
// under the account's lock, advanced by each event it records: record then
// needs no query to find where its event links.
var txHeads sync.Map // *ent.Tx → *lockedHeads

type lockedHeads struct {
	accountID string
	chainHeads
}

// holdHeads records the heads tx read under accountID's lock.
func holdHeads(tx *ent.Tx, accountID string, h chainHeads) {
	txHeads.Store(tx, &lockedHeads{accountID: accountID, chainHeads: h})
}

// heldHeads returns the heads tx read under accountID's lock, when it read
// them with the lock (Service.lock, on PostgreSQL).
func heldHeads(tx *ent.Tx, accountID string) (chainHeads, bool) {
	v, _ := txHeads.Load(tx)
	if h, ok := v.(*lockedHeads); ok && h.accountID == accountID {
		return h.chainHeads, true
	}
	return chainHeads{}, false
}

// headOf returns the head an event of accountID links to in tx, when the
// gate read it.
func headOf(tx *ent.Tx, accountID string) (*link, bool) {
	v, ok := txHeads.Load(tx)
	if !ok {
		return nil, false
	}
	switch h := v.(*lockedHeads); accountID {
	case "":
		return &h.platform, true
	case h.accountID:
		return &h.account, true
	}
	return nil, false
}
