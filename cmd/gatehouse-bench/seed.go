package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/auditevent"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/permission"
	"github.com/gatehouse-iam/gatehouse/ent/role"
	"github.com/gatehouse-iam/gatehouse/ent/schema/ids"
	"github.com/gatehouse-iam/gatehouse/graph/audit"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/token"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
)

// The shape's vocabulary: ten areas of ten actions; `<area>.manage` implies
// `<area>.*`, an implication chain for the engine to follow.
var (
	areas   = []string{"identity", "billing", "reports", "attestations", "governance", "documents", "flows", "webhooks", "exports", "support"}
	actions = []string{"read", "list", "create", "update", "delete", "export", "approve", "share", "archive", "manage"}
)

// catalogKeys returns n permission keys, area.action, area-major.
func catalogKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		a, x := i/len(actions), i%len(actions)
		keys[i] = fmt.Sprintf("%s.%s", areas[a%len(areas)], actions[x])
		if a >= len(areas) {
			keys[i] = fmt.Sprintf("%s%d.%s", areas[a%len(areas)], a/len(areas), actions[x])
		}
	}
	return keys
}

// seedBatch is how many accounts one transaction writes; bulk inserts are
// cut into chunks of at most chunkRows rows, under both databases' limits on
// bound parameters (SQLite's is 32,766).
const (
	seedBatch = 20
	chunkRows = 1000
)

// seed writes the dataset into a migrated, empty database: the catalog and an
// operator key through the service (so they are exactly what the API would
// write), then accounts, roles, users, members, assignments, two API keys per
// account and each account's first audit event straight through ent in bulk
// — shaped like what createAccount, addMember and createApiKey write, but
// thousands of times faster.
func seed(ctx context.Context, target string, sh Shape, progress func(string, ...any)) (*Manifest, error) {
	if sh.Accounts < 1 || sh.Roles < 2 || sh.Members < 1 || sh.Permissions < 1 {
		return nil, fmt.Errorf("shape %s: want at least 1 account, 2 roles (the system ones), 1 member and 1 permission", sh)
	}
	start := time.Now()
	db, err := database.Open(target)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.Migrate(); err != nil {
		return nil, err
	}
	svc := iam.New(db.Client, db.Dialect, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := svc.EnsureBuiltins(ctx); err != nil {
		return nil, err
	}
	meta := auth.WithMeta(ctx, auth.Meta{RequestID: "bench-seed", ClientAddr: "gatehouse-bench"})
	opKey, opSecret, err := svc.CreateOperatorKey(meta, "bench")
	if err != nil {
		return nil, err
	}
	keys := catalogKeys(sh.Permissions)
	defs := make([]*iam.PermissionInput, len(keys))
	for i, k := range keys {
		area, action := cut(k)
		group, desc := area, "Bench permission "+k
		d := &iam.PermissionInput{Key: k, Group: &group, Description: &desc}
		if action == "manage" {
			d.Implies = []string{area + ".*"}
		}
		defs[i] = d
	}
	if _, err := svc.DefinePermissions(meta, iam.DefinePermissionsInput{Permissions: defs}); err != nil {
		return nil, fmt.Errorf("define permissions: %w", err)
	}
	catalog, err := db.Client.Permission.Query().Where(permission.KeyIn(keys...)).All(ctx)
	if err != nil {
		return nil, err
	}
	builtins, err := db.Client.Permission.Query().Where(permission.BuiltIn(true)).All(ctx)
	if err != nil {
		return nil, err
	}
	master := append(slices.Clone(catalog), builtins...)
	// The owner holds full_access, so a key minted for the owner with
	// neither scopes nor permissions holds the whole master list (S2).
	ownerPerms := make([]string, len(master))
	for i, p := range master {
		ownerPerms[i] = p.Key
	}
	slices.Sort(ownerPerms)

	name := "sqlite"
	if db.Dialect == dialect.Postgres {
		name = "postgres"
	}
	m := &Manifest{Dialect: name, Database: target, Shape: sh, Operator: opSecret, Permissions: keys,
		JWTSecret: randomString(48)}
	s := &seeder{ctx: ctx, rng: mrand.New(mrand.NewPCG(7, 11)), sh: sh, keys: keys, master: master,
		ownerPerms: ownerPerms, operatorID: opKey.ID}
	for from := 0; from < sh.Accounts; from += seedBatch {
		to := min(from+seedBatch, sh.Accounts)
		tx, err := db.Client.Tx(ctx)
		if err != nil {
			return nil, err
		}
		accs, err := s.batch(tx, from, to)
		if err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("seed accounts %d–%d: %w", from, to-1, err)
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		m.Accounts = append(m.Accounts, accs...)
		if to%1000 == 0 && to < sh.Accounts {
			progress("seeded %d of %d accounts (%s)", to, sh.Accounts, time.Since(start).Round(time.Second))
		}
	}
	if db.Dialect == dialect.Postgres {
		// What autovacuum does to a live database, done now: without
		// statistics the planner takes the bulk-loaded tables for empty and
		// scans them whole (a model load then reads a million assignments).
		progress("vacuuming and analyzing")
		if _, err := db.SQL.ExecContext(ctx, "VACUUM (ANALYZE)"); err != nil {
			return nil, fmt.Errorf("vacuum: %w", err)
		}
	}
	m.SeededIn = time.Since(start)
	return m, nil
}

// seeder writes batches of accounts of one shape.
type seeder struct {
	ctx        context.Context
	rng        *mrand.Rand
	sh         Shape
	keys       []string
	master     []*ent.Permission
	ownerPerms []string
	operatorID string
}

// batch writes accounts [from, to) in tx.
func (s *seeder) batch(tx *ent.Tx, from, to int) ([]Account, error) {
	ctx := s.ctx
	acs := make([]*ent.AccountCreate, 0, to-from)
	for a := from; a < to; a++ {
		acs = append(acs, tx.Account.Create().SetName(fmt.Sprintf("Bench %d", a)).SetSlug(fmt.Sprintf("bench-%d", a)).
			SetDefaultAccessExcludes([]string{"iam.*"}).AddPermissions(s.master...))
	}
	accounts, err := tx.Account.CreateBulk(acs...).Save(ctx)
	if err != nil {
		return nil, err
	}
	var (
		rcs []*ent.RoleCreate
		ucs []*ent.UserCreate
	)
	for i, acc := range accounts {
		// The system roles as createAccount makes them, then custom ones.
		rcs = append(rcs,
			tx.Role.Create().SetAccountID(acc.ID).SetKey(iam.FullAccess).SetName("Full access").
				SetKind(role.KindSYSTEM).SetGrants([]string{"*"}).SetPosition(0),
			tx.Role.Create().SetAccountID(acc.ID).SetKey(iam.DefaultAccess).SetName("Default access").
				SetKind(role.KindSYSTEM).SetGrants([]string{"*"}).SetPosition(1))
		for r := 2; r < s.sh.Roles; r++ {
			rcs = append(rcs, tx.Role.Create().SetAccountID(acc.ID).SetKey(fmt.Sprintf("role_%02d", r)).
				SetName(fmt.Sprintf("Role %02d", r)).SetGrants(s.customGrants()).SetPosition(r))
		}
		for u := range s.sh.Members {
			ucs = append(ucs, tx.User.Create().SetEmail(memberEmail(from+i, u)).SetName(fmt.Sprintf("Member %d", u)))
		}
	}
	roles, err := bulk[*ent.RoleCreate, *ent.Role](ctx, rcs, tx.Role.CreateBulk)
	if err != nil {
		return nil, err
	}
	users, err := bulk[*ent.UserCreate, *ent.User](ctx, ucs, tx.User.CreateBulk)
	if err != nil {
		return nil, err
	}
	mcs := make([]*ent.MemberCreate, len(users))
	for i, u := range users {
		mcs[i] = tx.Member.Create().SetAccountID(accounts[i/s.sh.Members].ID).SetUserID(u.ID).SetStatus(member.StatusACTIVE)
	}
	members, err := bulk[*ent.MemberCreate, *ent.Member](ctx, mcs, tx.Member.CreateBulk)
	if err != nil {
		return nil, err
	}

	out := make([]Account, len(accounts))
	var (
		asg  []*ent.AssignmentCreate
		kcs  []*ent.APIKeyCreate
		evcs []*ent.AuditEventCreate
	)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i, acc := range accounts {
		accRoles := roles[i*s.sh.Roles : (i+1)*s.sh.Roles]
		accMembers := members[i*s.sh.Members : (i+1)*s.sh.Members]
		a := Account{ID: acc.ID, OwnerEmail: memberEmail(from+i, 0)}
		for j, mem := range accMembers {
			a.Members = append(a.Members, mem.ID)
			for _, r := range s.heldRoles(j, accRoles) {
				asg = append(asg, tx.Assignment.Create().SetAccountID(acc.ID).SetMemberID(mem.ID).SetRoleID(r.ID))
			}
		}
		owner := accMembers[0].ID
		decider, dc, err := s.apiKey(tx, acc.ID, owner, "bench decisions", []string{"iam.authorize"})
		if err != nil {
			return nil, err
		}
		admin, ac, err := s.apiKey(tx, acc.ID, owner, "bench admin", s.ownerPerms)
		if err != nil {
			return nil, err
		}
		a.Decider, a.Admin = decider, admin
		kcs = append(kcs, dc, ac)
		evcs = append(evcs, s.createdEvent(tx, acc.ID, a.OwnerEmail, now))
		out[i] = a
	}
	if _, err := bulk[*ent.AssignmentCreate, *ent.Assignment](ctx, asg, tx.Assignment.CreateBulk); err != nil {
		return nil, err
	}
	if _, err := bulk[*ent.APIKeyCreate, *ent.APIKey](ctx, kcs, tx.APIKey.CreateBulk); err != nil {
		return nil, err
	}
	if _, err := bulk[*ent.AuditEventCreate, *ent.AuditEvent](ctx, evcs, tx.AuditEvent.CreateBulk); err != nil {
		return nil, err
	}
	return out, nil
}

// bulk saves creates in chunks of chunkRows through bulkOf (an ent
// client's CreateBulk).
func bulk[C, T any, B interface {
	Save(context.Context) ([]T, error)
}](ctx context.Context, creates []C, bulkOf func(...C) B) ([]T, error) {
	var out []T
	for from := 0; from < len(creates); from += chunkRows {
		got, err := bulkOf(creates[from:min(from+chunkRows, len(creates))]...).Save(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// apiKey prepares a key minted by the operator for the owner, as
// createApiKey stores it, and returns its secret.
func (s *seeder) apiKey(tx *ent.Tx, accountID, ownerID, name string, perms []string) (string, *ent.APIKeyCreate, error) {
	id := ids.New(ids.APIKey)
	secret, hash, err := token.Generate(auth.APIKeyPrefix, ids.Suffix(id))
	if err != nil {
		return "", nil, err
	}
	return secret, tx.APIKey.Create().SetID(id).SetAccountID(accountID).SetName(name).SetCreatedBy(s.operatorID).
		SetMemberID(ownerID).SetScopes([]string{}).SetPermissions(perms).SetMasks([]string{}).SetSecretHash(hash), nil
}

// createdEvent is the account's first audit event, chained as record()
// chains it, so that later changes extend a valid chain.
func (s *seeder) createdEvent(tx *ent.Tx, accountID, owner string, at time.Time) *ent.AuditEventCreate {
	e := &ent.AuditEvent{
		ID: ids.New(ids.AuditEvent), AccountID: accountID, CreatedAt: at,
		ActorType: auditevent.ActorTypeOPERATOR, ActorID: s.operatorID, ActorLabel: s.operatorID,
		Action: "account.created", TargetType: "Account", TargetID: accountID,
		Changes:   map[string]any{"owner": owner, "seededBy": "gatehouse-bench"},
		RequestID: "bench-seed", ClientAddr: "gatehouse-bench", Seq: 1,
	}
	e.Hash = audit.EventHash(e)
	return tx.AuditEvent.Create().SetID(e.ID).SetAccountID(e.AccountID).SetCreatedAt(e.CreatedAt).
		SetActorType(e.ActorType).SetActorID(e.ActorID).SetActorLabel(e.ActorLabel).
		SetAction(e.Action).SetTargetType(e.TargetType).SetTargetID(e.TargetID).
		SetChanges(e.Changes).SetRequestID(e.RequestID).SetClientAddr(e.ClientAddr).
		SetSeq(e.Seq).SetHash(e.Hash)
}

// customGrants is a custom role's grants: a few concrete keys, sometimes an
// area wildcard, sometimes an area's manage (which implies the area).
func (s *seeder) customGrants() []string {
	var grants []string
	add := func(g string) {
		if !slices.Contains(grants, g) {
			grants = append(grants, g)
		}
	}
	for range 3 + s.rng.IntN(6) {
		add(s.keys[s.rng.IntN(len(s.keys))])
	}
	if s.rng.IntN(3) == 0 {
		area, _ := cut(s.keys[s.rng.IntN(len(s.keys))])
		add(area + ".*")
	}
	if s.rng.IntN(5) == 0 {
		area, _ := cut(s.keys[s.rng.IntN(len(s.keys))])
		add(area + ".manage")
	}
	return grants
}

// heldRoles: member 0 owns the account (full_access), one in ten holds
// default_access, the others one to three custom roles.
func (s *seeder) heldRoles(m int, roles []*ent.Role) []*ent.Role {
	switch {
	case m == 0:
		return roles[:1]
	case m%10 == 0 || len(roles) < 3:
		return roles[1:2]
	}
	custom := roles[2:]
	n := min(1+s.rng.IntN(3), len(custom))
	out := make([]*ent.Role, 0, n)
	for _, i := range s.rng.Perm(len(custom))[:n] {
		out = append(out, custom[i])
	}
	return out
}

func memberEmail(account, m int) string { return fmt.Sprintf("m%d@bench-%d.test", m, account) }

// cut splits a key at its last dot.
func cut(key string) (area, action string) {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == '.' {
			return key[:i], key[i+1:]
		}
	}
	return key, ""
}

// randomString is n characters of URL-safe base64 from crypto/rand.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}
