package audit

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/gatehouse-iam/gatehouse/ent"
)

// Result is the outcome of verifying one chain.
type Result struct {
	// Valid is true when nothing is wrong.
	Valid bool
	// Checked is how many events were found intact before the broken one
	// (or in all).
	Checked int
	// CheckpointsVerified is how many signed checkpoints verified.
	CheckpointsVerified int
	// SignedThrough is the last position a verified checkpoint covers: the
	// events up to it are proven by signatures, those after it only by the
	// hash chain.
	SignedThrough int64
	// FirstBroken is the first event that was altered, or that follows a
	// removed one; nil when valid, or when what is wrong is a checkpoint or
	// events missing at the end.
	FirstBroken *ent.AuditEvent
	// Problem says what is wrong.
	Problem string
}

// Verifier checks one chain, fed its events in order. Checkpoints may come
// in any order, but each before the first event it covers. With no keys,
// checkpoints are ignored and only the hash chain is checked.
type Verifier struct {
	account string
	keys    *Keys
	res     Result
	done    bool
	want    int64 // the next position
	prev    *ent.AuditEvent
	// prevSigned is true when prev's hash matched a verified checkpoint:
	// then prev is known to be authentic.
	prevSigned bool
	// unsigned is the first of the events since the last signed one. Signers
	// always continue from the last checkpoint, so once a later event is
	// signed, an unsigned one before it means a checkpoint was removed.
	unsigned *ent.AuditEvent
	pending  []*Checkpoint // by FromSeq, not reached yet
	active   []*Checkpoint // verified, covering the current position
	last     *Checkpoint   // the verified checkpoint reaching furthest
}

// NewVerifier returns a verifier of accountID's chain ("" is the platform's).
func NewVerifier(accountID string, keys *Keys) *Verifier {
	if keys != nil && keys.Len() == 0 {
		keys = nil
	}
	return &Verifier{account: accountID, keys: keys, res: Result{Valid: true}, want: 1}
}

// ContinueVerifier returns a verifier of the rest of a chain: the events
// after position seq, whose event is known (signed) to have hash.
func ContinueVerifier(accountID string, keys *Keys, seq int64, hash string) *Verifier {
	v := NewVerifier(accountID, keys)
	if seq > 0 {
		v.prev, v.prevSigned, v.want = &ent.AuditEvent{AccountID: accountID, Seq: seq, Hash: hash}, true, seq+1
	}
	return v
}

// AddCheckpoint adds a checkpoint to verify once the events it covers come.
func (v *Verifier) AddCheckpoint(c *Checkpoint) {
	if v.keys == nil || v.done {
		return
	}
	i := sort.Search(len(v.pending), func(i int) bool { return v.pending[i].FromSeq > c.FromSeq })
	v.pending = slices.Insert(v.pending, i, c)
}

// Add checks the next event; it returns false once the chain is found broken.
func (v *Verifier) Add(e *ent.AuditEvent) bool {
	if v.done || !v.reach(e.Seq) {
		return false
	}
	switch {
	case e.AccountID != v.account:
		return v.fail(e, "it belongs to another chain")
	case e.Seq < v.want:
		return v.fail(e, fmt.Sprintf("it repeats position %d", e.Seq))
	case e.Seq > v.want:
		return v.fail(e, fmt.Sprintf("the events at positions %d to %d before it are missing", v.want, e.Seq-1))
	}
	signed := len(v.active) > 0
	switch {
	case signed && v.unsigned != nil:
		v.res.Checked = int(v.unsigned.Seq - 1)
		return v.fail(v.unsigned, fmt.Sprintf("no checkpoint covers it, though later events (from position %d) are signed: a checkpoint was removed", e.Seq))
	case !signed && v.keys != nil && v.unsigned == nil:
		v.unsigned = e
	case signed:
		v.unsigned = nil
	}
	for _, c := range v.active {
		if c.Hashes[e.Seq-c.FromSeq-1] != e.Hash {
			return v.fail(e, fmt.Sprintf("its hash differs from the one signed in checkpoint %s at %s: it was altered, replaced or moved after it was signed",
				c.ID, c.SignedAt.UTC().Format("2006-01-02T15:04:05Z")))
		}
	}
	if EventHash(e) != e.Hash {
		return v.fail(e, "its content does not match its hash")
	}
	prevHash := ""
	if v.prev != nil {
		prevHash = v.prev.Hash
	}
	if e.PrevHash != prevHash {
		if v.prev != nil && !v.prevSigned {
			// The event is consistent in itself, so its link holds the hash its
			// predecessor had when it was written: the predecessor was
			// rewritten, hash and all.
			v.res.Checked--
			return v.fail(v.prev, fmt.Sprintf("the next event (position %d) links to a different hash: it was altered and its hash recomputed", e.Seq))
		}
		return v.fail(e, "its link to the previous event does not match")
	}
	v.res.Checked++
	v.prev, v.prevSigned, v.want = e, signed, e.Seq+1
	return true
}

// Finish verifies the checkpoints no event reached and returns the result.
func (v *Verifier) Finish() Result {
	if !v.done && v.reach(math.MaxInt64) && v.last != nil && v.last.ToSeq >= v.want {
		v.fail(nil, fmt.Sprintf("checkpoint %s signs events up to position %d, but the chain ends at position %d: events were removed",
			v.last.ID, v.last.ToSeq, v.want-1))
	}
	return v.res
}

// reach verifies the checkpoints that start before position seq and keeps
// those that cover it.
func (v *Verifier) reach(seq int64) bool {
	for len(v.pending) > 0 && v.pending[0].FromSeq < seq {
		c := v.pending[0]
		v.pending = v.pending[1:]
		if c.AccountID != v.account {
			return v.fail(nil, fmt.Sprintf("checkpoint %s belongs to another chain", c.ID))
		}
		if err := v.keys.Verify(c); err != nil {
			return v.fail(nil, fmt.Sprintf("checkpoint %s (positions %d to %d): %v", c.ID, c.FromSeq+1, c.ToSeq, err))
		}
		v.res.CheckpointsVerified++
		if v.last == nil || c.ToSeq > v.last.ToSeq {
			v.last = c
			v.res.SignedThrough = c.ToSeq
		}
		v.active = append(v.active, c)
	}
	v.active = slices.DeleteFunc(v.active, func(c *Checkpoint) bool { return c.ToSeq < seq })
	return true
}

func (v *Verifier) fail(e *ent.AuditEvent, problem string) bool {
	v.done = true
	v.res = Result{Checked: v.res.Checked, CheckpointsVerified: v.res.CheckpointsVerified,
		SignedThrough: v.res.SignedThrough, FirstBroken: e, Problem: problem}
	return false
}
