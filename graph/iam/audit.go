package iam

import (
	"context"
	"encoding/json"
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
// (inTx locks the account row, or the platform chain).
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
	last, err := tx.AuditEvent.Query().Where(auditevent.AccountID(ev.AccountID)).
		Order(ent.Desc(auditevent.FieldSeq)).Select(auditevent.FieldSeq, auditevent.FieldHash).First(ctx)
	switch {
	case err == nil:
		e.Seq, e.PrevHash = last.Seq+1, last.Hash
	case !ent.IsNotFound(err):
		return err
	}
	e.Hash = audit.EventHash(e)
	return tx.AuditEvent.Create().SetID(e.ID).SetAccountID(e.AccountID).SetCreatedAt(e.CreatedAt).
		SetActorType(e.ActorType).SetActorID(e.ActorID).SetActorLabel(e.ActorLabel).
		SetAction(e.Action).SetTargetType(e.TargetType).SetTargetID(e.TargetID).
		SetChanges(e.Changes).SetRequestID(e.RequestID).SetClientAddr(e.ClientAddr).
		SetReason(e.Reason).SetSeq(e.Seq).SetPrevHash(e.PrevHash).SetHash(e.Hash).Exec(ctx)
}

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
