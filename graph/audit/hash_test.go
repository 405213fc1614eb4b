package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

// L2: the reason, added to events later, is hashed only when given: an event
// without one hashes exactly as events did before it existed, so chains
// written then still verify; an event with one cannot have it changed.
func TestL2_ReasonIsHashedOnlyWhenGiven(t *testing.T) {
	e := chain(1)[0]
	// The hash as it was computed before reasons existed.
	before, _ := json.Marshal([]any{
		e.PrevHash, e.ID, e.AccountID, e.Seq, e.CreatedAt.UTC().Format(time.RFC3339Nano),
		e.ActorType, e.ActorID, e.ActorLabel, e.Action, e.TargetType, e.TargetID,
		e.Changes, e.RequestID, e.ClientAddr,
	})
	sum := sha256.Sum256(before)
	if got := EventHash(e); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("an event without a reason hashes differently than before reasons existed: %s", got)
	}
	e.Reason = "quarterly access review"
	withReason := EventHash(e)
	if withReason == hex.EncodeToString(sum[:]) {
		t.Fatal("the reason is not in the hash")
	}
	e.Reason = "quarterly access review!"
	if EventHash(e) == withReason {
		t.Fatal("a changed reason keeps the hash")
	}
}

// The export carries the reason, and an exported event with one verifies.
func TestL3_ExportCarriesTheReason(t *testing.T) {
	events := chain(2)
	events[1].Reason = "temporary cover for Ana"
	events[1].Hash = EventHash(events[1])
	var buf bytes.Buffer
	w, err := NewWriter(&buf, acc)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := w.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.End(); err != nil {
		t.Fatal(err)
	}
	x, err := ReadExport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if x.Events[1].Reason != "temporary cover for Ana" || x.Events[0].Reason != "" {
		t.Fatalf("reasons after the round trip: %q, %q", x.Events[0].Reason, x.Events[1].Reason)
	}
	if r := x.Verify(nil); !r.Valid {
		t.Fatalf("export with a reason: %+v", r)
	}
}
