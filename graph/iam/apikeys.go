package iam

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/apikey"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
	"github.com/gatehouse-iam/gatehouse/ent/scope"
	"github.com/gatehouse-iam/gatehouse/graph/apperr"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/token"
	"github.com/gatehouse-iam/gatehouse/graph/authz"
)

// bound is whose permissions limit a new key, and how (S2).
type bound struct {
	subject   *authz.Subject
	memberID  string
	createdBy string
}

// keyBound finds what limits a key the caller creates: the caller's own
// member or key, or, for the operator, the member named by memberID (or the
// whole master list when none is named).
func keyBound(ctx context.Context, a *Access, memberID *string) (bound, error) {
	p := auth.FromContext(ctx)
	switch {
	case a.Operator && memberID != nil:
		e, err := a.MemberByID(ctx, *memberID)
		if err != nil {
			return bound{}, err
		}
		if e.Member.Status != member.StatusACTIVE {
			return bound{}, apperr.New(apperr.Conflict, "the member is %s", e.Member.Status).With("reason", "MEMBER_"+string(e.Member.Status))
		}
		return bound{subject: e.Subject, memberID: e.Member.ID, createdBy: p.ID}, nil
	case a.Operator:
		return bound{subject: a.Policy.Subject([]authz.Role{{Key: "operator", Grants: []string{"*"}}}), createdBy: p.ID}, nil
	case memberID != nil && (a.Member == nil || *memberID != a.Member.ID):
		return bound{}, apperr.New(apperr.Forbidden, "only the operator mints keys on behalf of other members")
	case a.Key != nil:
		return bound{subject: a.Subject, memberID: a.Key.MemberID, createdBy: a.Key.ID}, nil
	}
	return bound{subject: a.Subject, memberID: a.Member.ID, createdBy: a.Member.ID}, nil
}

// CreateAPIKey creates a key whose permissions are resolved now and never
// change (S2, S3); the secret is returned this once and stored hashed (S4).
func (s *Service) CreateAPIKey(ctx context.Context, in CreateAPIKeyInput) (*ent.APIKey, string, error) {
	in.Name = strings.TrimSpace(in.Name)
	var bad []string
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 200 {
		bad = append(bad, "name must be 1–200 characters")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(time.Now()) {
		bad = append(bad, "expiresAt must be in the future")
	}
	if len(bad) > 0 {
		return nil, "", badInput(bad)
	}
	var key *ent.APIKey
	var secret string
	err := s.change(ctx, Ref{AccountID: in.AccountID}, "iam.keys.create", func(c *Change) error {
		tx, a := c.Tx, c.Access
		c.Alters() // a new key is read when first used
		if invalid := a.Policy.InvalidGrants(in.Permissions, true); len(invalid) > 0 {
			return badInput([]string{"invalid permissions (malformed, or not in the master list): " + strings.Join(invalid, ", ")})
		}
		b, err := keyBound(ctx, a, in.MemberID)
		if err != nil {
			return err
		}
		grants := slices.Clone(in.Permissions)
		if len(in.Scopes) > 0 {
			scopes, err := tx.Scope.Query().Where(scope.AccountID(in.AccountID), scope.KeyIn(in.Scopes...)).All(ctx)
			if err != nil {
				return err
			}
			var unknown []string
			for _, k := range in.Scopes {
				if !slices.ContainsFunc(scopes, func(sc *ent.Scope) bool { return sc.Key == k }) {
					unknown = append(unknown, k)
				}
			}
			if len(unknown) > 0 {
				return apperr.New(apperr.BadUserInput, "unknown scopes: %s", strings.Join(unknown, ", ")).With("invalid", unknown)
			}
			for _, sc := range scopes {
				grants = append(grants, sc.Grants...)
			}
		}
		// The snapshot: concrete keys, resolved now (S3).
		held := b.subject.Unconstrained()
		perms := held
		if in.Scopes != nil || in.Permissions != nil {
			perms = a.Policy.Expand(authz.Role{Grants: grants})
			var missing []string
			for _, k := range perms {
				if _, ok := slices.BinarySearch(held, k); !ok {
					missing = append(missing, k)
				}
			}
			if len(missing) > 0 {
				return apperr.Missing("this key", missing)
			}
		}
		id := ids.New(ids.APIKey)
		var hash []byte
		if secret, hash, err = token.Generate(auth.APIKeyPrefix, ids.Suffix(id)); err != nil {
			return err
		}
		create := tx.APIKey.Create().SetID(id).SetAccountID(in.AccountID).SetName(in.Name).
			SetCreatedBy(b.createdBy).SetScopes(nonNil(in.Scopes)).SetPermissions(nonNil(perms)).
			SetMasks(b.subject.Masks()).SetSecretHash(hash).SetNillableExpiresAt(in.ExpiresAt)
		if b.memberID != "" {
			create.SetMemberID(b.memberID)
		}
		if key, err = create.Save(ctx); err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: in.AccountID, Action: "apikey.created", TargetType: "ApiKey", TargetID: key.ID,
			Changes: map[string]any{"name": key.Name, "scopes": key.Scopes, "permissions": key.Permissions,
				"masks": key.Masks, "expiresAt": key.ExpiresAt, "memberId": key.MemberID}})
	})
	if err != nil {
		return nil, "", err
	}
	return key.Unwrap(), secret, nil
}

// RevokeAPIKey revokes a key: it is UNAUTHENTICATED from the next request (S5).
func (s *Service) RevokeAPIKey(ctx context.Context, in RevokeAPIKeyInput) (*ent.APIKey, error) {
	return s.changeKey(ctx, in.APIKeyID, "iam.keys.revoke", "apikey.revoked", func(k *ent.APIKey, u *ent.APIKeyUpdateOne) (map[string]any, error) {
		if k.RevokedAt != nil {
			return nil, apperr.New(apperr.Conflict, "the key was revoked at %s", k.RevokedAt.Format(time.RFC3339)).With("reason", "ALREADY_REVOKED")
		}
		u.SetRevokedAt(time.Now())
		return map[string]any{"name": k.Name}, nil
	})
}

// RenameAPIKey renames a key; nothing else of a key changes (S3).
func (s *Service) RenameAPIKey(ctx context.Context, in RenameAPIKeyInput) (*ent.APIKey, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return nil, badInput([]string{"name must be 1–200 characters"})
	}
	return s.changeKey(ctx, in.APIKeyID, "iam.keys.create", "apikey.renamed", func(k *ent.APIKey, u *ent.APIKeyUpdateOne) (map[string]any, error) {
		u.SetName(name)
		return diff(k.Name, name), nil
	})
}

func (s *Service) changeKey(ctx context.Context, id, permission, action string, change func(*ent.APIKey, *ent.APIKeyUpdateOne) (map[string]any, error)) (*ent.APIKey, error) {
	var key *ent.APIKey
	err := s.change(ctx, Ref{APIKeyID: id}, permission, func(c *Change) error {
		tx, accountID := c.Tx, c.AccountID
		c.Alters(touchKeys)
		cur, err := tx.APIKey.Get(ctx, id)
		if err != nil {
			return notFoundOr(err, "API key", id)
		}
		u := cur.Update()
		changes, err := change(cur, u)
		if err != nil {
			return err
		}
		if key, err = u.Save(ctx); err != nil {
			return err
		}
		return record(ctx, tx, event{AccountID: accountID, Action: action, TargetType: "ApiKey", TargetID: id, Changes: changes})
	})
	if err != nil {
		return nil, err
	}
	return key.Unwrap(), nil
}

// revokeKeysOf revokes the keys of a removed member, in its transaction (M5).
func revokeKeysOf(ctx context.Context, tx *ent.Tx, memberID string) ([]string, error) {
	ids, err := tx.APIKey.Query().Where(apikey.MemberID(memberID), apikey.RevokedAtIsNil()).IDs(ctx)
	if err != nil || len(ids) == 0 {
		return ids, err
	}
	return ids, tx.APIKey.Update().Where(apikey.IDIn(ids...)).SetRevokedAt(time.Now()).Exec(ctx)
}

// keyIndex remembers, by the ULID of a key's id, the id, the account it
// belongs to and its hash: none ever changes, so authenticating a known key
// needs no SQL (and makes no id). It keeps the keyIndexSize keys used last:
// one pushed out is read again, one query, when it is next used. Unbounded,
// a server of a platform that makes and revokes keys all day kept every
// key it had ever seen. (A sync.Map before that: its lookup hashed the ULID
// through an interface and walked its tree, 4 % of a server's CPU
// answering POST /v1/authorize.)
type keyIndex struct {
	c *lru.Cache[string, indexedKey]
}

// keyIndexSize is how many keys a server's index keeps: about 20 MB.
const keyIndexSize = 1 << 17

func newKeyIndex(size int) keyIndex {
	c, _ := lru.New[string, indexedKey](size) // size > 0
	return keyIndex{c}
}

func (x keyIndex) get(ulid string) (indexedKey, bool) { return x.c.Get(ulid) }

func (x keyIndex) put(ulid string, ik indexedKey) {
	x.c.Add(strings.Clone(ulid), ik) // not the request's header
}

type indexedKey struct {
	id, accountID string
	hash          []byte
}

// AuthenticateAPIKey returns the principal of an API key secret whose format
// and checksum were already checked (token.Parse). Unknown keys, wrong
// secrets, and revoked, expired or inactive keys all get ErrInvalid (S4, S5).
func (s *Service) AuthenticateAPIKey(ctx context.Context, ulid, secret string) (*auth.Principal, error) {
	ik, ok := s.keys.get(ulid)
	if !ok {
		id := ids.APIKey + "_" + ulid
		k, err := s.client.APIKey.Query().Where(apikey.ID(id)).
			Select(apikey.FieldAccountID, apikey.FieldSecretHash).Only(ctx)
		if ent.IsNotFound(err) {
			token.Verify(secret, make([]byte, 32)) // the same work as a wrong secret
			return nil, auth.Invalid("unknown key")
		}
		if err != nil {
			return nil, err
		}
		ik = indexedKey{id: id, accountID: k.AccountID, hash: k.SecretHash}
		s.keys.put(ulid, ik)
	}
	id := ik.id
	if !token.Verify(secret, ik.hash) {
		return nil, auth.Invalid("wrong secret")
	}
	m, err := s.Model(ctx, ik.accountID)
	if err != nil {
		return nil, err
	}
	e, err := m.KeyByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if r := e.Reason(time.Now()); r != authz.Granted {
		return nil, auth.Invalid(strings.ToLower(r.String()))
	}
	s.KeyUsed(id)
	p := &auth.Principal{Kind: auth.APIKey, ID: id, Label: id, AccountID: ik.accountID}
	if e.Key.ExpiresAt != nil {
		p.Expires = *e.Key.ExpiresAt
	}
	// The request acts in the key's account: what it may do there is known
	// now, from the model and the key just read, and Access finds it in the
	// request's cache instead of looking both up again.
	if c := cacheFrom(ctx); c != nil {
		s.obs.AccountUsed(ctx, ik.accountID)
		c.put(ik.accountID, keyAccess(m, e))
	}
	return p, nil
}
