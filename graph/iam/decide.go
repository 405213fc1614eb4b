package iam

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/apikey"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/user"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

// DefaultMaxChecks is the most questions one authorizeMany answers (D5)
// unless Options say otherwise.
const DefaultMaxChecks = 100

// Decision is an answer (D1). How it was granted (Explain) and, on denial,
// the roles that would grant the permission (Suggested, D4) are worked out
// when asked: most callers ask only whether.
type Decision struct {
	Permission string
	authz.Decision
	m      *Model
	member bool // about a member: a key's snapshot is no role of the account
}

// Explain says how the permission was granted (nil when it was not), and by
// which role of the account (nil for an API key).
func (d *Decision) Explain() (*authz.Path, *ent.Role) {
	p := d.GrantedBy()
	if p == nil || !d.member {
		return p, nil
	}
	if i, ok := d.m.indexOf(p.RoleID); ok {
		return p, d.m.Roles()[i]
	}
	return p, nil
}

// GrantedByRole reports whether GrantedBy names a role of the account
// (false for an API key's snapshot).
func (d *Decision) GrantedByRole() bool { return d.member }

// Suggested are, when the subject lacks the permission (NOT_GRANTED) or
// holds it for other resources (CONSTRAINT_MISMATCH), the account's roles
// that would grant it (D4); nil otherwise.
func (d *Decision) Suggested() []*ent.Role {
	var out []*ent.Role
	d.eachSuggested(func(i int32) { out = append(out, d.m.Roles()[i]) })
	return out
}

// RoleRef names a role of the account.
type RoleRef struct{ ID, Key string }

// SuggestedRefs names the roles Suggested returns.
func (d *Decision) SuggestedRefs() []RoleRef {
	var out []RoleRef
	d.eachSuggested(func(i int32) { out = append(out, RoleRef{d.m.roles[i].ID, d.m.roles[i].Key}) })
	return out
}

func (d *Decision) eachSuggested(fn func(int32)) {
	if d.Allowed || d.Reason != authz.NotGranted && d.Reason != authz.ConstraintMismatch {
		return
	}
	for _, i := range d.m.rolesGranting(d.Permission) {
		fn(i)
	}
}

// subject is who a question is about.
type subject struct {
	member *MemberEntry
	key    *KeyEntry
}

func (s subject) id() string {
	if s.key != nil {
		return s.key.Key.ID
	}
	return s.member.Member.ID
}

// Authorize answers one question (D1–D4).
func (s *Service) Authorize(ctx context.Context, in AuthorizeInput) (d *Decision, err error) {
	ctx, span := decisionSpan(ctx, in)
	var sub subject
	defer func() { endDecision(span, d, sub, err) }()
	a, err := s.Access(ctx, in.AccountID)
	if err != nil {
		return nil, err
	}
	sub, err = s.subjectOf(ctx, a, in.Subject)
	if err != nil {
		return nil, err
	}
	d = a.decide(sub, in.Permission, resourceOf(in.Resource))
	s.obs.Decided(ctx, d.Allowed, d.Reason.String())
	if d.Allowed {
		s.PermissionUsed(a.Account.ID, sub.id(), a.Policy.Intern(in.Permission)) // the model's strings, not the request's
	}
	return d, nil
}

// AuthorizeMany answers up to the configured number of questions (D5).
func (s *Service) AuthorizeMany(ctx context.Context, ins []*AuthorizeInput) ([]*Decision, error) {
	if len(ins) > s.maxChecks {
		return nil, apperr.New(apperr.BadUserInput, "at most %d checks per request; %d given", s.maxChecks, len(ins)).
			With("max", s.maxChecks)
	}
	out := make([]*Decision, len(ins))
	for i, in := range ins {
		d, err := s.Authorize(ctx, *in)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// subjectOf resolves who a question is about; another subject than the caller
// needs iam.authorize (D1).
func (s *Service) subjectOf(ctx context.Context, a *Access, in *SubjectInput) (subject, error) {
	var sub subject
	var err error
	given := 0
	if in != nil {
		for _, p := range []*string{in.MemberID, in.Email, in.APIKeyID} {
			if p != nil {
				given++
			}
		}
	}
	switch {
	case given > 1:
		return sub, apperr.New(apperr.BadUserInput, "name the subject by one of memberId, email or apiKeyId")
	case given == 0 && a.Key != nil:
		sub.key, err = a.KeyByID(ctx, a.Key.ID)
		return sub, err
	case given == 0 && a.Member != nil:
		sub.member, err = a.MemberByID(ctx, a.Member.ID)
		return sub, err
	case given == 0:
		return sub, apperr.New(apperr.BadUserInput, "the operator must name a subject")
	case in.MemberID != nil:
		sub.member, err = a.MemberByID(ctx, *in.MemberID)
	case in.APIKeyID != nil:
		sub.key, err = a.KeyByID(ctx, *in.APIKeyID)
	default:
		sub.member, err = s.memberByEmail(ctx, a.Model, *in.Email)
	}
	if err != nil {
		return sub, err
	}
	self := (a.Member != nil && sub.member != nil && a.Member.ID == sub.member.Member.ID) ||
		(a.Key != nil && sub.key != nil && a.Key.ID == sub.key.Key.ID)
	if !self && !a.Has("iam.authorize") {
		return sub, apperr.Missing("deciding for another subject", []string{"iam.authorize"})
	}
	return sub, nil
}

func (s *Service) memberByEmail(ctx context.Context, m *Model, email string) (*MemberEntry, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u, err := s.client.User.Query().Where(user.Email(email)).Only(ctx)
	if err != nil {
		return nil, notFoundOr(err, "member", email)
	}
	e, err := m.MemberByUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, apperr.NotFoundf("member", email)
	}
	return e, nil
}

func resourceOf(attrs []*ResourceAttributeInput) authz.Resource {
	if len(attrs) == 0 {
		return nil
	}
	res := make(authz.Resource, len(attrs))
	for _, at := range attrs {
		res[at.Attribute] = at.Value
	}
	return res
}

// decide answers for a subject of this account.
func (m *Model) decide(sub subject, permission string, res authz.Resource) *Decision {
	d := &Decision{Permission: permission, m: m, member: sub.member != nil}
	var inactive authz.Reason = authz.Granted
	var compiled *authz.Subject
	switch {
	case !m.Active():
		inactive = authz.AccountSuspended
	case sub.key != nil:
		inactive, compiled = sub.key.Reason(time.Now()), sub.key.Snapshot
	case sub.member.Member.Status != member.StatusACTIVE:
		inactive = authz.SubjectInactive
	default:
		compiled = sub.member.Subject
	}
	if inactive != authz.Granted {
		d.Decision = authz.Decision{Reason: inactive, Masks: []string{}}
		return d
	}
	d.Decision = compiled.Decide(permission, res)
	if d.Masks == nil {
		d.Masks = []string{}
	}
	return d
}

// Decide is exported for tests and callers holding an Access: the caller's
// own answer.
func (a *Access) Decide(ctx context.Context, permission string, res authz.Resource) (*Decision, error) {
	sub, err := a.svc.subjectOf(ctx, a, nil)
	if err != nil {
		return nil, err
	}
	d := a.decide(sub, permission, res)
	a.svc.obs.Decided(ctx, d.Allowed, d.Reason.String())
	return d, nil
}

// Holder is a member (by id: the model keeps no member rows) or an API key
// allowed something (D5).
type Holder struct {
	MemberID string
	Key      *ent.APIKey
}

// ID returns the holder's id.
func (h Holder) ID() string {
	if h.Key != nil {
		return h.Key.ID
	}
	return h.MemberID
}

// WhoCan lists, by id, the ACTIVE members and working keys of the account
// allowed permission on res (D5).
func (s *Service) WhoCan(ctx context.Context, accountID, permission string, res authz.Resource) ([]Holder, error) {
	a, err := s.Require(ctx, accountID, "iam.authorize")
	if err != nil {
		return nil, err
	}
	var out []Holder
	err = a.Members(ctx, func(e *MemberEntry) {
		if e.Member.Status == member.StatusACTIVE && a.decide(subject{member: e}, permission, res).Allowed {
			out = append(out, Holder{MemberID: e.Member.ID})
		}
	})
	if err != nil {
		return nil, err
	}
	// The keys in one statement: one each made whoCan's statements grow
	// with the keys the server had not met yet.
	keys, err := s.client.APIKey.Query().Where(apikey.AccountID(accountID), apikey.RevokedAtIsNil()).All(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, "iam.WhoCan: keys")
	}
	for _, k := range keys {
		e, err := a.keyOf(ctx, k)
		if err != nil {
			return nil, err
		}
		if a.decide(subject{key: e}, permission, res).Allowed {
			out = append(out, Holder{Key: e.Key})
		}
	}
	slices.SortFunc(out, func(x, y Holder) int { return strings.Compare(x.ID(), y.ID()) })
	return out, nil
}
