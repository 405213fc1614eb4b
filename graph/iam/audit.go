package iam

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
	"github.com/gatehouse-iam/gatehouse/graph/audit"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
)

// event is the audit record of one successful change (L1).
type event struct {
	AccountID  string
	Action     string
	TargetType string
	TargetID   string
	Changes    map[string]any
}

// record writes ev in tx, attributed to the request's principal, as the next
// link of its account's hash chain (L2). The caller holds the chain's lock
// (inTx locks the account row, or the platform chain); inside the write gate
// the chain's head is already known (heads.go).
func record(ctx context.Context, tx *ent.Tx, ev event) error {
	p := auth.FromContext(ctx)
	e := &ent.AuditEvent{
		ID: ids.New(ids.AuditEvent), AccountID: ev.AccountID,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond), // what both databases keep
		ActorType: auditevent.ActorTypeSYSTEM, ActorID: "system", ActorLabel: "system",
		Action: ev.Action, TargetType: ev.TargetType, TargetID: ev.TargetID,
		Changes:   canonical(ev.Changes),
		RequestID: auth.MetaFrom(ctx).RequestID, ClientAddr: auth.MetaFrom(ctx).ClientAddr,
		Reason: reasonFrom(ctx), Seq: 1,
	}
	if p != nil {
		e.ActorID, e.ActorLabel = p.ID, p.Label
		switch p.Kind {
		case auth.Operator:
			e.ActorType = auditevent.ActorTypeOPERATOR
		case auth.User:
			e.ActorType = auditevent.ActorTypeUSER
		case auth.APIKey:
			e.ActorType = auditevent.ActorTypeAPI_KEY
		}
	}
	head, known := headOf(tx, ev.AccountID)
	if !known {
		last, err := tx.AuditEvent.Query().Where(auditevent.AccountID(ev.AccountID)).
			Order(ent.Desc(auditevent.FieldSeq)).Select(auditevent.FieldSeq, auditevent.FieldHash).First(ctx)
		head = &link{}
		switch {
		case err == nil:
			head.seq, head.hash = last.Seq, last.Hash
		case !ent.IsNotFound(err):
			return err
		}
	}
	e.Seq, e.PrevHash = head.seq+1, head.hash
	e.Hash = audit.EventHash(e)
	err := tx.AuditEvent.Create().SetID(e.ID).SetAccountID(e.AccountID).SetCreatedAt(e.CreatedAt).
		SetActorType(e.ActorType).SetActorID(e.ActorID).SetActorLabel(e.ActorLabel).
		SetAction(e.Action).SetTargetType(e.TargetType).SetTargetID(e.TargetID).
		SetChanges(e.Changes).SetRequestID(e.RequestID).SetClientAddr(e.ClientAddr).
		SetReason(e.Reason).SetSeq(e.Seq).SetPrevHash(e.PrevHash).SetHash(e.Hash).Exec(ctx)
	if err == nil {
		head.seq, head.hash = e.Seq, e.Hash
		countCommitted(tx)
		if ev.AccountID == "" {
			platformChanged.Store(tx, e.Seq)
		}
	}
	return err
}

// platformChanged marks the transactions that recorded platform events
// (catalog, operator keys), with the last one's seq: every model depends on
// those, and their commit drops every cached model.
var platformChanged sync.Map // *ent.Tx → int64

// canonical gives changes the form they have after a round trip through
// either database's JSON column, so that hashes computed now and when
// verifying agree.
func canonical(changes map[string]any) map[string]any {
	if changes == nil {
		return nil
	}
	b, err := json.Marshal(changes)
	if err != nil {
		return map[string]any{"unencodable": err.Error()}
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// diff is the before/after pair stored in an event's changes.
func diff(before, after any) map[string]any {
	return map[string]any{"before": before, "after": after}
}
