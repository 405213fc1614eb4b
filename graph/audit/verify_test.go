package audit

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
)

const acc = "acc_1"

// chain makes n linked events of acc.
func chain(n int) []*ent.AuditEvent {
	var out []*ent.AuditEvent
	prev := ""
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 123456000, time.UTC)
	for i := 1; i <= n; i++ {
		e := &ent.AuditEvent{
			ID: fmt.Sprintf("evt_%d", i), AccountID: acc, Seq: int64(i), CreatedAt: t0.Add(time.Duration(i) * time.Second),
			ActorType: auditevent.ActorTypeUSER, ActorID: "usr_1", ActorLabel: "ana@acme.test",
			Action: "role.created", TargetType: "Role", TargetID: fmt.Sprintf("role_%d", i),
			Changes: map[string]any{"after": map[string]any{"grants": []any{"a.b"}, "n": float64(i)}}, PrevHash: prev,
		}
		e.Hash = EventHash(e)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

// rehash recomputes every hash from position from on, as someone who can
// write the table would after changing an event.
func rehash(events []*ent.AuditEvent, from int64) {
	for i := from - 1; i < int64(len(events)); i++ {
		if i > 0 {
			events[i].PrevHash = events[i-1].Hash
		}
		events[i].Hash = EventHash(events[i])
	}
}

func sign(s *Signer, events []*ent.AuditEvent, from, to int64) *Checkpoint {
	c := &Checkpoint{ID: fmt.Sprintf("ckp_%d_%d", from, to), AccountID: acc, FromSeq: from, ToSeq: to, SignedAt: time.Now().UTC()}
	for _, e := range events[from:to] {
		c.Hashes = append(c.Hashes, e.Hash)
	}
	s.Sign(c)
	return c
}

func verify(keys *Keys, cps []*Checkpoint, events []*ent.AuditEvent) Result {
	v := NewVerifier(acc, keys)
	for _, c := range cps {
		v.AddCheckpoint(c)
	}
	for _, e := range events {
		if !v.Add(e) {
			break
		}
	}
	return v.Finish()
}

func newSigner(t *testing.T) *Signer {
	t.Helper()
	priv, _, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return NewSigner(k)
}

func TestL4_VerifierNamesTheAlteredEvent(t *testing.T) {
	signer, intruder := newSigner(t), newSigner(t)
	keys := NewKeys(signer.Public())
	for _, c := range []struct {
		name string
		// tamper changes a chain of 6 signed through 5 (two checkpoints,
		// 0–3 and 3–5) and returns the checkpoints the verifier sees.
		tamper func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint
		// keep is how many events are left (all when 0).
		keep       int
		keys       *Keys
		broken     string // the event named, "" for none
		problem    string // a word of the problem
		valid      bool
		checked    int
		checkpoint int
	}{
		{name: "intact", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint { return cps },
			keys: keys, valid: true, checked: 6, checkpoint: 2},
		{name: "content changed, hash kept", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			ev[3].ActorLabel = "someone@else.test"
			return cps
		}, keys: keys, broken: "evt_4", problem: "content", checked: 3, checkpoint: 2},
		{name: "content and its own hash rewritten: the altered event is named, not the next", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			ev[3].ActorLabel = "someone@else.test"
			ev[3].Hash = EventHash(ev[3])
			return cps
		}, broken: "evt_4", problem: "recomputed", checked: 3},
		{name: "history rewritten with every hash recomputed: the hash chain alone cannot tell", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			ev[1].ActorLabel = "someone@else.test"
			rehash(ev, 2)
			return cps
		}, valid: true, checked: 6},
		{name: "history rewritten with every hash recomputed: the checkpoint tells", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			ev[1].ActorLabel = "someone@else.test"
			rehash(ev, 2)
			return cps
		}, keys: keys, broken: "evt_2", problem: "checkpoint", checked: 1, checkpoint: 1},
		{name: "event removed and the rest renumbered", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			copy(ev[2:], ev[3:])
			for i, e := range ev[:5] {
				e.Seq = int64(i + 1)
			}
			rehash(ev[:5], 3)
			return cps
		}, keep: 5, keys: keys, broken: "evt_4", problem: "checkpoint", checked: 2, checkpoint: 1},
		{name: "event removed", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			copy(ev[4:], ev[5:])
			return cps
		}, keep: 5, broken: "evt_6", problem: "missing", checked: 4},
		{name: "signed events removed from the end", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			return cps
		}, keep: 3, keys: keys, problem: "removed", checked: 3, checkpoint: 2},
		{name: "forged signature", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			ev[4].ActorLabel = "someone@else.test"
			rehash(ev, 5)
			forged := sign(intruder, ev, 3, 5)
			forged.KeyID = signer.KeyID()
			return []*Checkpoint{cps[0], forged}
		}, keys: keys, problem: "signature does not verify", checked: 3, checkpoint: 1},
		{name: "a checkpoint removed", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			return cps[1:]
		}, keys: keys, broken: "evt_1", problem: "checkpoint was removed", checked: 0, checkpoint: 1},
		{name: "signed by an unknown key", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			return append(cps, sign(intruder, ev, 5, 6))
		}, keys: keys, problem: "unknown key", checked: 5, checkpoint: 2},
		{name: "checkpoint of another chain", tamper: func(ev []*ent.AuditEvent, cps []*Checkpoint) []*Checkpoint {
			other := &Checkpoint{ID: "ckp_x", AccountID: "acc_2", FromSeq: 0, ToSeq: 1, Hashes: []string{ev[0].Hash}}
			signer.Sign(other)
			return append(cps, other)
		}, keys: keys, problem: "another chain", checked: 0, checkpoint: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := chain(6)
			cps := []*Checkpoint{sign(signer, ev, 0, 3), sign(signer, ev, 3, 5)}
			cps = c.tamper(ev, cps)
			if c.keep > 0 {
				ev = ev[:c.keep]
			}
			r := verify(c.keys, cps, ev)
			broken := ""
			if r.FirstBroken != nil {
				broken = r.FirstBroken.ID
			}
			if r.Valid != c.valid || broken != c.broken || !strings.Contains(r.Problem, c.problem) ||
				r.Checked != c.checked || r.CheckpointsVerified != c.checkpoint {
				t.Fatalf("got valid=%v broken=%q checked=%d checkpoints=%d problem=%q", r.Valid, broken, r.Checked, r.CheckpointsVerified, r.Problem)
			}
		})
	}
}

// Checkpoints may overlap (two servers signing at once) and come in any
// order; each is checked on its own.
func TestL4_OverlappingCheckpoints(t *testing.T) {
	s := newSigner(t)
	ev := chain(8)
	cps := []*Checkpoint{sign(s, ev, 4, 8), sign(s, ev, 0, 5), sign(s, ev, 0, 4)}
	r := verify(NewKeys(s.Public()), cps, ev)
	if !r.Valid || r.CheckpointsVerified != 3 || r.SignedThrough != 8 {
		t.Fatalf("%+v", r)
	}
	ev[5].TargetID = "role_x"
	rehash(ev, 6)
	if r := verify(NewKeys(s.Public()), cps, ev); r.Valid || r.FirstBroken != ev[5] {
		t.Fatalf("%+v", r)
	}
}

func TestL4_ExportRoundTrip(t *testing.T) {
	s := newSigner(t)
	ev := chain(5)
	ev[2].Changes = nil // null and {} hash differently: both must survive
	ev[3].Changes = map[string]any{}
	rehash(ev, 3)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, acc)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		if err := w.Event(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Checkpoint(sign(s, ev, 0, 5)); err != nil {
		t.Fatal(err)
	}
	complete := buf.String()
	if err := w.End(); err != nil {
		t.Fatal(err)
	}
	x, err := ReadExport(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r := x.Verify(NewKeys(s.Public())); !r.Valid || r.Checked != 5 || r.CheckpointsVerified != 1 {
		t.Fatalf("%+v", r)
	}
	if _, err := ReadExport(strings.NewReader(complete)); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Fatalf("an export without its end record: %v", err)
	}
	cut := complete[:strings.LastIndex(strings.TrimSuffix(complete, "\n"), "\n")+1] + buf.String()[len(complete):]
	if _, err := ReadExport(strings.NewReader(cut)); err == nil || !strings.Contains(err.Error(), "end record counts") {
		t.Fatalf("an export missing a line: %v", err)
	}
}

func TestL4_KeyFiles(t *testing.T) {
	priv, pub, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubs, err := ParsePublicKeys(pub)
	if err != nil || len(pubs) != 1 || !pubs[0].Equal(k.Public()) {
		t.Fatalf("%v %v", pubs, err)
	}
	fromPriv, err := ParsePublicKeys(priv)
	if err != nil || !fromPriv[0].Equal(k.Public()) {
		t.Fatalf("the public half of a private key file: %v", err)
	}
	if _, err := ParsePrivateKey(pub); err == nil {
		t.Fatal("a public key read as a private key")
	}
	if KeyID(k.Public().(ed25519.PublicKey)) != NewSigner(k).KeyID() || len(KeyID(pubs[0])) != 16 {
		t.Fatal("key id")
	}
}
