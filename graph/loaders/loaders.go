// Package loaders batches the lookups that GraphQL fields make for each
// element of a list, so that the SQL statements of a request grow with the
// query's depth, never with the number of rows (SPEC §11). A fresh set is
// built for every request by Middleware and reached with For.
package loaders

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/ent/account"
	"github.com/gatehouse-iam/gatehouse/ent/assignment"
	"github.com/gatehouse-iam/gatehouse/ent/member"
	"github.com/gatehouse-iam/gatehouse/ent/user"
)

// wait is how long a loader collects keys before it queries.
const wait = 5 * time.Millisecond

// Loaders are the batched lookups of one request.
type Loaders struct {
	client *ent.Client
	// RolesByMember maps a member id to the roles it holds, in id order.
	RolesByMember *dataloadgen.Loader[string, []*ent.Role]
	// HolderCount maps a role id to the number of members holding it.
	HolderCount *dataloadgen.Loader[string, int]
	// Member maps a member id to the member.
	Member *dataloadgen.Loader[string, *ent.Member]
	// User maps a user id to the user.
	User *dataloadgen.Loader[string, *ent.User]
	// Account maps an account id to the account.
	Account *dataloadgen.Loader[string, *ent.Account]
	holders *holderLoaders
}

// New builds the loaders of one request.
func New(client *ent.Client) *Loaders {
	opts := []dataloadgen.Option{dataloadgen.WithWait(wait), dataloadgen.WithBatchCapacity(1000)}
	return &Loaders{
		client: client,
		RolesByMember: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string][]*ent.Role, error) {
			rows, err := client.Assignment.Query().
				Where(assignment.MemberIDIn(ids...)).
				WithRole().
				Order(ent.Asc(assignment.FieldRoleID)).
				All(ctx)
			if err != nil {
				return nil, err
			}
			out := make(map[string][]*ent.Role, len(ids))
			for _, id := range ids {
				out[id] = []*ent.Role{}
			}
			for _, a := range rows {
				out[a.MemberID] = append(out[a.MemberID], a.Edges.Role)
			}
			return out, nil
		}, opts...),
		HolderCount: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]int, error) {
			return countHolders(ctx, client, ids, nil)
		}, opts...),
		Member: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*ent.Member, error) {
			rows, err := client.Member.Query().Where(member.IDIn(ids...)).All(ctx)
			return byID(rows, func(m *ent.Member) string { return m.ID }), err
		}, opts...),
		User: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*ent.User, error) {
			rows, err := client.User.Query().Where(user.IDIn(ids...)).All(ctx)
			return byID(rows, func(u *ent.User) string { return u.ID }), err
		}, opts...),
		Account: dataloadgen.NewMappedLoader(func(ctx context.Context, ids []string) (map[string]*ent.Account, error) {
			rows, err := client.Account.Query().Where(account.IDIn(ids...)).All(ctx)
			return byID(rows, func(a *ent.Account) string { return a.ID }), err
		}, opts...),
		holders: &holderLoaders{m: map[any]*HolderLoader{}},
	}
}

func byID[T any](rows []T, id func(T) string) map[string]T {
	out := make(map[string]T, len(rows))
	for _, r := range rows {
		out[id(r)] = r
	}
	return out
}

// requestLoaders are a request's loaders, built when a field first asks
// for them: most requests (decisions, mutations and their payloads) never
// do, and building them was about 5 % of a createRole's allocations.
type requestLoaders struct {
	client *ent.Client
	once   sync.Once
	l      *Loaders
}

type ctxKey struct{}

// Middleware gives every request its own loaders.
func Middleware(client *ent.Client, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(With(r.Context(), client)))
	})
}

// With returns ctx with loaders of its own (an operation over a WebSocket
// is a request of its own).
func With(ctx context.Context, client *ent.Client) context.Context {
	return context.WithValue(ctx, ctxKey{}, &requestLoaders{client: client})
}

// For returns the request's loaders.
func For(ctx context.Context) *Loaders {
	rl := ctx.Value(ctxKey{}).(*requestLoaders)
	rl.once.Do(func() { rl.l = New(rl.client) })
	return rl.l
}

// Reset forgets every cached result of the request's loaders. Mutations call
// it after they commit, so that their payloads and later fields read the
// request's own writes; mutation fields run one at a time, so nothing reads
// the loaders meanwhile.
func Reset(ctx context.Context) {
	rl := ctx.Value(ctxKey{}).(*requestLoaders)
	rl.once, rl.l = sync.Once{}, nil
}
