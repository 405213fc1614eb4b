package apitest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
)

// L3 at scale: an export `since` a time reads the events from that time,
// not the account's whole log. The export walks the chain in seq order,
// and with since its first page read every event of the account from seq 1
// until it had found a page of recent ones: a SIEM's "yesterday's events"
// job read a log of a million events each time. Now the export starts at
// the first seq at or after since. PostgreSQL's EXPLAIN ANALYZE counts the
// events the export's statements read; the answer is checked on both.
func TestL3_AnExportSinceATimeReadsFromThatTime(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("auditsince", nil)
		ctx := context.Background()
		head, err := e.DB.Client.AuditEvent.Query().Where(auditevent.AccountID(a.ID)).Aggregate(ent.Max(auditevent.FieldSeq)).Int(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// A long history, straight into the table: 2,000 events a second
		// apart (the export reads the log, it does not verify it).
		const old = 2000
		base := time.Now().UTC().Truncate(time.Second).Add(time.Hour)
		for from := 0; from < old; from += 500 {
			batch := make([]*ent.AuditEventCreate, 0, 500)
			for i := from; i < from+500; i++ {
				batch = append(batch, e.DB.Client.AuditEvent.Create().SetAccountID(a.ID).SetSeq(int64(head+1+i)).
					SetCreatedAt(base.Add(time.Duration(i)*time.Second)).SetActorType(auditevent.ActorTypeSYSTEM).SetActorID("system").SetActorLabel("import").SetTargetType("Account").SetTargetID(a.ID).
					SetAction("history.imported").SetPrevHash("x").SetHash(fmt.Sprintf("h%d", i)))
			}
			if err := e.DB.Client.AuditEvent.CreateBulk(batch...).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		since := base.Add((old - 10) * time.Second)
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/accounts/"+a.ID+"/audit.csv?action=history.imported&since="+since.Format(time.RFC3339), nil)
		req.Header.Set("Authorization", "Bearer "+a.Owner)
		r, tr := e.trackRequest(req)
		rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
		if r.Status != 200 || err != nil || len(rows) != 1+10 || rows[1][1] != fmt.Sprint(head+1+old-10) {
			t.Fatalf("export since the last 10: HTTP %d, %d rows, %v: %.300s", r.Status, len(rows), err, r.Body)
		}
		if e.Dialect != "postgres" {
			return
		}
		read := int64(0)
		for _, s := range tr.Statements() {
			if strings.Contains(s.Query, `FROM "audit_events"`) && strings.HasPrefix(s.Query, "SELECT") {
				read += e.eventsRead(s.Query, s.Args)
			}
		}
		if read > 100 {
			t.Errorf("an export of the last 10 of %d events read %d events", old, read)
		}
	})
}

// eventsRead is how many audit events PostgreSQL reads to answer q
// (EXPLAIN ANALYZE: the rows its scans of audit_events produced, and those
// their filters removed).
func (e *env) eventsRead(q string, args []any) int64 {
	e.t.Helper()
	var plan []byte
	if err := e.DB.SQL.QueryRowContext(context.Background(), "EXPLAIN (ANALYZE, FORMAT JSON) "+q, args...).Scan(&plan); err != nil {
		e.t.Fatal(err)
	}
	type node struct {
		Relation string `json:"Relation Name"`
		Rows     int64  `json:"Actual Rows"`
		Removed  int64  `json:"Rows Removed by Filter"`
		Loops    int64  `json:"Actual Loops"`
		Plans    []node `json:"Plans"`
	}
	var nodes []struct{ Plan node }
	if err := json.Unmarshal(plan, &nodes); err != nil {
		e.t.Fatal(err)
	}
	var n int64
	var walk func(p node)
	walk = func(p node) {
		if p.Relation == "audit_events" {
			n += (p.Rows + p.Removed) * max(1, p.Loops)
		}
		for _, c := range p.Plans {
			walk(c)
		}
	}
	for _, p := range nodes {
		walk(p.Plan)
	}
	return n
}
