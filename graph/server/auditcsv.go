package server

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// auditCSV exports an account's audit log as CSV (L3):
//
//	GET /accounts/{id}/audit.csv?action=&actor=&target=&since=&until=
//
// It needs iam.audit.read, like account.auditEvents; since and until are
// RFC 3339 times. Rows come in chain order; reason, added later, is the last
// column so that readers of the earlier columns by position still work.
func auditCSV(svc *iam.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if auth.FromContext(ctx) == nil {
			auth.Unauthorized(w, "authentication required")
			return
		}
		q := r.URL.Query()
		f := iam.AuditFilter{Action: q.Get("action"), Actor: q.Get("actor"), Target: q.Get("target")}
		for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
			if v := q.Get(name); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					auth.WriteError(w, http.StatusBadRequest, string(apperr.BadUserInput), name+" must be an RFC 3339 time")
					return
				}
				*dst = t
			}
		}
		started := false
		cw := csv.NewWriter(w)
		err := svc.ExportAudit(ctx, r.PathValue("id"), f, func(e *ent.AuditEvent) error {
			if !started {
				started = true
				w.Header().Set("Content-Type", "text/csv; charset=utf-8")
				w.Header().Set("Content-Disposition", `attachment; filename="audit.csv"`)
				_ = cw.Write([]string{"id", "seq", "created_at", "actor_type", "actor_id", "actor_label", "action",
					"target_type", "target_id", "changes", "request_id", "client_addr", "hash", "reason"})
			}
			changes, _ := json.Marshal(e.Changes)
			return cw.Write([]string{e.ID, strconv.FormatInt(e.Seq, 10), e.CreatedAt.UTC().Format(time.RFC3339Nano),
				string(e.ActorType), e.ActorID, e.ActorLabel, e.Action, e.TargetType, e.TargetID,
				string(changes), e.RequestID, e.ClientAddr, e.Hash, e.Reason})
		})
		if err != nil && !started {
			exportError(w, err)
			return
		}
		cw.Flush()
	})
}
