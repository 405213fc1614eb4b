package iam

import (
	"context"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
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

// record writes ev in tx, attributed to the request's principal.
func record(ctx context.Context, tx *ent.Tx, ev event) error {
	p := auth.FromContext(ctx)
	actorType, actorID, label := auditevent.ActorTypeSYSTEM, "system", "system"
	if p != nil {
		actorID, label = p.ID, p.Label
		switch p.Kind {
		case auth.Operator:
			actorType = auditevent.ActorTypeOPERATOR
		case auth.User:
			actorType = auditevent.ActorTypeUSER
		case auth.APIKey:
			actorType = auditevent.ActorTypeAPI_KEY
		}
	}
	meta := auth.MetaFrom(ctx)
	c := tx.AuditEvent.Create().
		SetActorType(actorType).
		SetActorID(actorID).
		SetActorLabel(label).
		SetAction(ev.Action).
		SetTargetType(ev.TargetType).
		SetTargetID(ev.TargetID).
		SetRequestID(meta.RequestID).
		SetClientAddr(meta.ClientAddr)
	if ev.AccountID != "" {
		c.SetAccountID(ev.AccountID)
	}
	if ev.Changes != nil {
		c.SetChanges(ev.Changes)
	}
	return c.Exec(ctx)
}

// diff is the before/after pair stored in an event's changes.
func diff(before, after any) map[string]any {
	return map[string]any{"before": before, "after": after}
}
