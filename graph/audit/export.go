package audit

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
)

// Format names the export format: JSON lines, a header, then events and
// checkpoints, each with every field needed to verify them offline.
const Format = "gatehouse.audit.export.v1"

// Line types of an export.
const (
	lineHeader     = "header"
	lineEvent      = "event"
	lineCheckpoint = "checkpoint"
	lineEnd        = "end"
)

type header struct {
	Type       string    `json:"type"`
	Format     string    `json:"format"`
	AccountID  string    `json:"accountId"`
	ExportedAt time.Time `json:"exportedAt"`
}

// event is an audit event as exported: every field EventHash reads.
type event struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	AccountID  string         `json:"accountId"`
	Seq        int64          `json:"seq"`
	CreatedAt  time.Time      `json:"createdAt"`
	ActorType  string         `json:"actorType"`
	ActorID    string         `json:"actorId"`
	ActorLabel string         `json:"actorLabel"`
	Action     string         `json:"action"`
	TargetType string         `json:"targetType"`
	TargetID   string         `json:"targetId"`
	Changes    map[string]any `json:"changes"`
	RequestID  string         `json:"requestId"`
	ClientAddr string         `json:"clientAddr"`
	Reason     string         `json:"reason,omitempty"`
	PrevHash   string         `json:"prevHash"`
	Hash       string         `json:"hash"`
}

type checkpointLine struct {
	Type string `json:"type"`
	*Checkpoint
}

// end closes an export, so that one cut short is not taken for a shorter log.
type end struct {
	Type        string `json:"type"`
	Events      int    `json:"events"`
	Checkpoints int    `json:"checkpoints"`
}

// Writer writes an export.
type Writer struct {
	enc                 *json.Encoder
	events, checkpoints int
}

// NewWriter writes the header of accountID's export to w.
func NewWriter(w io.Writer, accountID string) (*Writer, error) {
	x := &Writer{enc: json.NewEncoder(w)}
	x.enc.SetEscapeHTML(false)
	return x, x.enc.Encode(header{Type: lineHeader, Format: Format, AccountID: accountID, ExportedAt: time.Now().UTC()})
}

// Event writes one event.
func (x *Writer) Event(e *ent.AuditEvent) error {
	x.events++
	return x.enc.Encode(event{
		Type: lineEvent, ID: e.ID, AccountID: e.AccountID, Seq: e.Seq, CreatedAt: e.CreatedAt.UTC(),
		ActorType: string(e.ActorType), ActorID: e.ActorID, ActorLabel: e.ActorLabel, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, Changes: e.Changes, RequestID: e.RequestID,
		ClientAddr: e.ClientAddr, Reason: e.Reason, PrevHash: e.PrevHash, Hash: e.Hash,
	})
}

// Checkpoint writes one checkpoint.
func (x *Writer) Checkpoint(c *Checkpoint) error {
	x.checkpoints++
	return x.enc.Encode(checkpointLine{Type: lineCheckpoint, Checkpoint: c})
}

// End writes the end record, once everything else was written.
func (x *Writer) End() error {
	return x.enc.Encode(end{Type: lineEnd, Events: x.events, Checkpoints: x.checkpoints})
}

// Export is a read export.
type Export struct {
	AccountID   string
	ExportedAt  time.Time
	Events      []*ent.AuditEvent
	Checkpoints []*Checkpoint
}

// ReadExport reads an export. Lines may be of any length (a checkpoint lists
// up to thousands of hashes).
func ReadExport(r io.Reader) (*Export, error) {
	dec := json.NewDecoder(bufio.NewReader(r))
	x := &Export{}
	seenHeader, ended := false, false
	for n := 1; ; n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("record %d: %w", n, err)
		}
		var kind struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &kind); err != nil {
			return nil, fmt.Errorf("record %d: %w", n, err)
		}
		switch {
		case !seenHeader && kind.Type != lineHeader:
			return nil, errors.New("not a Gatehouse audit export: no header")
		case ended:
			return nil, fmt.Errorf("record %d: after the end record", n)
		}
		var err error
		switch kind.Type {
		case lineHeader:
			var h header
			if err = json.Unmarshal(raw, &h); err == nil && (seenHeader || h.Format != Format) {
				err = fmt.Errorf("unexpected header (format %q; this build reads %q)", h.Format, Format)
			}
			x.AccountID, x.ExportedAt, seenHeader = h.AccountID, h.ExportedAt, true
		case lineEvent:
			var e event
			if err = json.Unmarshal(raw, &e); err == nil {
				x.Events = append(x.Events, &ent.AuditEvent{
					ID: e.ID, AccountID: e.AccountID, Seq: e.Seq, CreatedAt: e.CreatedAt,
					ActorType: auditevent.ActorType(e.ActorType), ActorID: e.ActorID, ActorLabel: e.ActorLabel,
					Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Changes: e.Changes,
					RequestID: e.RequestID, ClientAddr: e.ClientAddr, Reason: e.Reason, PrevHash: e.PrevHash, Hash: e.Hash,
				})
			}
		case lineCheckpoint:
			c := &Checkpoint{}
			if err = json.Unmarshal(raw, c); err == nil {
				x.Checkpoints = append(x.Checkpoints, c)
			}
		case lineEnd:
			var e end
			if err = json.Unmarshal(raw, &e); err == nil && (e.Events != len(x.Events) || e.Checkpoints != len(x.Checkpoints)) {
				err = fmt.Errorf("the end record counts %d events and %d checkpoints, the export holds %d and %d",
					e.Events, e.Checkpoints, len(x.Events), len(x.Checkpoints))
			}
			ended = true
		default:
			err = fmt.Errorf("unknown record type %q", kind.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", n, err)
		}
	}
	if !ended {
		return nil, errors.New("the export is incomplete: it has no end record")
	}
	return x, nil
}

// Verify checks the export's chain and, with keys, its checkpoints.
func (x *Export) Verify(keys *Keys) Result {
	v := NewVerifier(x.AccountID, keys)
	for _, c := range x.Checkpoints {
		v.AddCheckpoint(c)
	}
	events := slices.Clone(x.Events)
	slices.SortStableFunc(events, func(a, b *ent.AuditEvent) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, e := range events {
		if !v.Add(e) {
			break
		}
	}
	return v.Finish()
}
