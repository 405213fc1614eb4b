package apitest

import (
	"entgo.io/ent/dialect"
	"github.com/gatehouse-iam/gatehouse/graph/server"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

func TestP4_NoCredentialsOnlyIntrospectionAnswers(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		r := e.gql("", `{ __schema { queryType { name } } }`, nil)
		if r.Status != http.StatusOK || r.Get("data.__schema.queryType.name").String() != "Query" {
			t.Fatalf("introspection without credentials: %s", r)
		}
		for _, q := range []string{`{ viewer { kind } }`, `{ accounts { totalCount } }`, `{ node(id: "acc_x") { id } }`} {
			if r := e.gql("", q, nil); r.Code() != "UNAUTHENTICATED" {
				t.Errorf("%s without credentials: %s", q, r)
			}
		}
		r = e.gql("", `mutation { suspendMember(input: {memberId: "mem_x"}) { member { id } } }`, nil)
		if r.Code() != "UNAUTHENTICATED" {
			t.Errorf("mutation without credentials: %s", r)
		}
	})
}

func TestP4_BadCredentialsAre401(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		wrongSecret := e.Operator[:len(e.Operator)-10] + "AAAAAAAAAA" // breaks the checksum
		expired, _ := jwt.NewBuilder().Issuer(jwtIssuer).Audience([]string{jwtAudience}).
			Claim("email", "a@b.test").Expiration(time.Now().Add(-time.Hour)).Build()
		expiredJWT, _ := jwt.Sign(expired, jwt.WithKey(jwa.HS256(), []byte(jwtSecret)))
		wrongAud, _ := jwt.NewBuilder().Issuer(jwtIssuer).Audience([]string{"other"}).
			Claim("email", "a@b.test").Expiration(time.Now().Add(time.Hour)).Build()
		wrongAudJWT, _ := jwt.Sign(wrongAud, jwt.WithKey(jwa.HS256(), []byte(jwtSecret)))
		otherKey, _ := jwt.Sign(wrongAud, jwt.WithKey(jwa.HS256(), []byte("another-secret-another-secret-xx")))
		for name, cred := range map[string]string{
			"malformed":        "not-a-key",
			"bad checksum":     wrongSecret,
			"unknown key":      unknownOperatorKey(t),
			"expired jwt":      string(expiredJWT),
			"wrong audience":   string(wrongAudJWT),
			"wrong jwt secret": string(otherKey),
		} {
			r := e.gql(cred, `{ viewer { kind } }`, nil)
			if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
				t.Errorf("%s: want 401 UNAUTHENTICATED, got %s", name, r)
			}
		}
	})
}

func TestP4_CredentialsInURLRefused(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/graphql?query=%7Bviewer%7Bkind%7D%7D&api_key="+e.Operator, nil)
		r := e.send(req)
		if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("want 401, got %s", r)
		}
		if strings.Contains(string(r.Body), e.Operator) {
			t.Fatal("the secret is echoed back")
		}
	})
}

func TestP1_OperatorKey(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		r := e.ok(e.Operator, `{ viewer { kind id memberships { status } } }`, nil)
		if r.Get("data.viewer.kind").String() != "OPERATOR" || !strings.HasPrefix(r.Get("data.viewer.id").String(), "opk_") {
			t.Fatalf("operator viewer: %s", r)
		}
		// The X-API-Key header works the same.
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/graphql", strings.NewReader(`{"query":"{ viewer { kind } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", e.Operator)
		if r := e.send(req); r.Get("data.viewer.kind").String() != "OPERATOR" {
			t.Fatalf("X-API-Key: %s", r)
		}
	})
}

func TestP3_UserByJWT(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("jwt", nil)
		r := e.ok(a.Owner, `{ viewer { kind user { email } memberships { account { id } status roles { key } effectivePermissions } } }`, nil)
		if r.Get("data.viewer.kind").String() != "USER" || r.Get("data.viewer.user.email").String() != a.OwnerEmail {
			t.Fatalf("viewer: %s", r)
		}
		if r.Get("data.viewer.memberships.0.account.id").String() != a.ID ||
			r.Get("data.viewer.memberships.0.roles.0.key").String() != "full_access" {
			t.Fatalf("M6 memberships: %s", r)
		}
		// A user with no membership is authenticated but sees nothing.
		r = e.ok(userToken(t, "stranger@else.test"), `{ viewer { kind memberships { status } } }`, nil)
		if r.Get("data.viewer.memberships.#").Int() != 0 {
			t.Fatalf("stranger: %s", r)
		}
	})
}

func unknownOperatorKey(t *testing.T) string {
	t.Helper()
	e := newEnv(t, dialect.SQLite, server.Config{})
	return e.Operator // a well-formed key of another server's database
}
