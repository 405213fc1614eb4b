// Package ids makes Gatehouse's opaque, typed identifiers: a type prefix, an
// underscore and a ULID (acc_01JD3V8Q7X9K2M4N6P8R0T2V4W). The random part makes
// them non-sequential and unguessable; the prefix lets node(id:) find the table.
package ids

import (
	"crypto/rand"
	"strings"
	"sync"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
	"github.com/oklog/ulid/v2"
)

// Prefixes of every identifier type.
const (
	Account     = "acc"
	User        = "usr"
	Permission  = "perm"
	Role        = "role"
	Member      = "mem"
	Assignment  = "asg"
	OperatorKey = "opk"
	AuditEvent  = "evt"
	Scope       = "scp"
	APIKey      = "key"
	SodRule     = "sod"
	Usage       = "use"
	Checkpoint  = "ckp"
)

// entropy makes ids created by this process in the same millisecond sort in
// creation order, so that ordering by id is ordering by creation.
var (
	mu      sync.Mutex
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// New returns a fresh identifier with the given prefix.
func New(prefix string) string {
	mu.Lock()
	defer mu.Unlock()
	return prefix + "_" + ulid.MustNew(ulid.Now(), entropy).String()
}

// Prefix returns the type prefix of id, or "" when id has none.
func Prefix(id string) string {
	p, _, ok := strings.Cut(id, "_")
	if !ok {
		return ""
	}
	return p
}

// Suffix returns the part of id after its prefix (the ULID).
func Suffix(id string) string {
	_, s, _ := strings.Cut(id, "_")
	return s
}

// Mixin gives a schema a string id with the given prefix.
func Mixin(prefix string) ent.Mixin { return idMixin{prefix: prefix} }

type idMixin struct {
	mixin.Schema
	prefix string
}

func (m idMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").
			Immutable().
			NotEmpty().
			MaxLen(64).
			Comment("Opaque, typed id (`" + m.prefix + "_…`); `node(id:)` resolves it.").
			DefaultFunc(func() string { return New(m.prefix) }),
	}
}
