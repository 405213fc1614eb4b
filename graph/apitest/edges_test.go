package apitest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/oklog/ulid/v2"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

const auditClientAddrs = `query($id: ID!) { account(id: $id) { auditEvents(first: 100) { edges { node { action clientAddr } } } } }`

// clientAddrOf is the client address the audit log recorded for the last
// event of action in the account.
func (e *env) clientAddrOf(accountID, action string) string {
	e.t.Helper()
	r := e.ok(e.Operator, auditClientAddrs, map[string]any{"id": accountID})
	addr := ""
	for _, n := range r.Get("data.account.auditEvents.edges.#.node").Array() {
		if n.Get("action").String() == action {
			addr = n.Get("clientAddr").String()
		}
	}
	return addr
}

// X-Forwarded-For is believed only from a trusted proxy, and then read from
// the right past trusted hops: it decides the audit log's clientAddr and the
// per-address rate-limit buckets. From anyone else it is ignored. (The
// parsing's cases are clientaddr_test.go's; these are the two uses.)
func TestEdges_XForwardedForOnlyFromTrustedProxies(t *testing.T) {
	const client, other = "203.0.113.7", "198.51.100.9"
	for _, c := range []struct {
		name       string
		trusted    []string
		want       string // the client address recorded
		ownBuckets bool   // whether addresses behind the proxy get buckets of their own
	}{
		{"untrusted peer", nil, "127.0.0.1", false},
		{"trusted peer", []string{"127.0.0.0/8"}, client, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachDBOf(t, func(t *testing.T, dia string) {
				// Ten requests per principal or address: the setup's fit.
				e, _ := newLoggedEnv(t, dia, server.Config{TrustedProxies: c.trusted, RateLimit: 0.001, RateBurst: 10})
				a := e.newAccount("xff", nil)
				// A client's own entry (6.6.6.6) is never believed: only what the
				// trusted proxy appended.
				r := e.sendWithID("req-xff", a.Owner, makeRole, map[string]any{"in": map[string]any{"accountId": a.ID, "name": "Forwarded"}}, "6.6.6.6, "+client)
				if r.Status != http.StatusOK || r.Get("errors").Exists() {
					t.Fatalf("%s: %s", c.name, r)
				}
				if got := e.clientAddrOf(a.ID, "role.created"); got != c.want {
					t.Errorf("%s: audit clientAddr %q, want %q", c.name, got, c.want)
				}
				ping := func(from string) int {
					return e.sendWithID("req-ping", "", `{ __typename }`, nil, from).Status
				}
				for i := 0; i < 10; i++ {
					ping(client)
				}
				if s := ping(client); s != http.StatusTooManyRequests {
					t.Errorf("%s: the 11th anonymous request from one address: %d", c.name, s)
				}
				want := http.StatusTooManyRequests // the same bucket: the proxy's
				if c.ownBuckets {
					want = http.StatusOK
				}
				if s := ping(other); s != want {
					t.Errorf("%s: a request from another address behind the proxy: %d, want %d", c.name, s, want)
				}
			})
		})
	}
}

// Failed authentications are limited per client address: after N refused
// credentials an address gets 429 for any credential — a right one too, so
// that the answer tells a guesser nothing — while other addresses, and
// requests without credentials, go on. A metric counts both.
func TestEdges_FailedAuthenticationIsRateLimitedPerAddress(t *testing.T) {
	forEachDBOf(t, func(t *testing.T, dia string) {
		e, _ := newLoggedEnv(t, dia, server.Config{TrustedProxies: []string{"127.0.0.0/8"}, AuthFailureRate: 0.001, AuthFailureBurst: 3})
		met := adminOf(t, e)
		const attacker, other = "203.0.113.66", "198.51.100.20"
		wrong := keyForID(t, ulid.Make().String())
		for i := 0; i < 3; i++ {
			if r := e.sendWithID("req-guess", wrong, `{ viewer { kind } }`, nil, attacker); r.Status != http.StatusUnauthorized {
				t.Fatalf("guess %d: %s", i+1, r)
			}
		}
		r := e.sendWithID("req-guess", wrong, `{ viewer { kind } }`, nil, attacker)
		if r.Status != http.StatusTooManyRequests || r.Code() != "RATE_LIMITED" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("the 4th guess: %s %v", r, r.Header)
		}
		if r := e.sendWithID("req-right", e.Operator, `{ viewer { kind } }`, nil, attacker); r.Status != http.StatusTooManyRequests {
			t.Errorf("a right credential from the blocked address: %s", r)
		}
		if r := e.sendWithID("req-anon", "", `{ __typename }`, nil, attacker); r.Status != http.StatusOK {
			t.Errorf("no credential from the blocked address: %s", r)
		}
		if r := e.sendWithID("req-other", e.Operator, `{ viewer { kind } }`, nil, other); r.Status != http.StatusOK || r.Get("data.viewer.kind").String() != "OPERATOR" {
			t.Errorf("a right credential from another address: %s", r)
		}
		s := met.scrape()
		if got := s.get("gatehouse_auth_failures_total", "reason", "unknown key"); got != 3 {
			t.Errorf("gatehouse_auth_failures_total{reason=unknown key} = %v, want 3", got)
		}
		if got := s.get("gatehouse_rate_limited_total", "limit", "auth_failures"); got != 2 {
			t.Errorf("gatehouse_rate_limited_total{limit=auth_failures} = %v, want 2", got)
		}
	})
}

// The budget of failed authentications per client address holds over a
// WebSocket too: a credential refused at connection_init spends one, and
// once the address has spent it, connection_init is closed with 4429 for
// any credential, a right one too, as its HTTP requests get 429. Before,
// connection_init checked credentials outside the budget: a guesser opened
// a connection per guess at its request rate.
func TestEdges_FailedAuthenticationOverTheSocketSpendsTheAddressBudget(t *testing.T) {
	forEachDBOf(t, func(t *testing.T, dia string) {
		e, _ := newLoggedEnv(t, dia, server.Config{AuthFailureRate: 0.001, AuthFailureBurst: 3})
		met := adminOf(t, e)
		wrong := keyForID(t, ulid.Make().String())
		for i := range 3 {
			if code := e.dialWS(t, map[string]any{"Authorization": "Bearer " + wrong}).closed(); code != 4403 {
				t.Fatalf("guess %d over the socket: closed with %d, want 4403", i+1, code)
			}
		}
		if code := e.dialWS(t, map[string]any{"Authorization": "Bearer " + wrong}).closed(); code != 4429 {
			t.Fatalf("the 4th guess over the socket: closed with %d, want 4429", code)
		}
		if code := e.dialWS(t, map[string]any{"Authorization": "Bearer " + e.Operator}).closed(); code != 4429 {
			t.Errorf("a right credential over the socket from the blocked address: closed with %d, want 4429", code)
		}
		if r := e.gql(e.Operator, `{ viewer { kind } }`, nil); r.Status != http.StatusTooManyRequests {
			t.Errorf("a right credential over HTTP from the blocked address: %s", r)
		}
		if got := met.scrape().get("gatehouse_auth_failures_total", "reason", "unknown key"); got != 3 {
			t.Errorf("gatehouse_auth_failures_total{reason=unknown key} = %v, want 3", got)
		}
	})
}

// RFC 6750: a refused credential is challenged with error="invalid_token";
// a malformed request with error="invalid_request". Every reason a
// credential fails gets the same status, body and challenge, while the log
// says which it was, at info level, with the request id.
func TestEdges_WWWAuthenticateAndWhyInTheLog(t *testing.T) {
	forEachDBOf(t, func(t *testing.T, dia string) {
		e, logs := newLoggedEnv(t, dia, server.Config{})
		expired, _ := jwt.NewBuilder().Issuer(jwtIssuer).Audience([]string{jwtAudience}).
			Claim("email", "a@b.test").Expiration(time.Now().Add(-time.Hour)).Build()
		expiredJWT, _ := jwt.Sign(expired, jwt.WithKey(jwa.HS256(), []byte(jwtSecret)))
		valid, _ := jwt.NewBuilder().Issuer(jwtIssuer).Audience([]string{jwtAudience}).
			Claim("email", "a@b.test").Expiration(time.Now().Add(time.Hour)).Build()
		forged, _ := jwt.Sign(valid, jwt.WithKey(jwa.HS256(), []byte("another-secret-another-secret-xx")))
		real := e.Operator
		wrongSecret := keyTypo(real, -1)
		const challenge = `Bearer realm="gatehouse", error="invalid_token", error_description="invalid, revoked or expired credentials"`
		var first resp
		for reason, cred := range map[string]string{
			"unknown key":                   keyForID(t, ulid.Make().String()),
			"jwt: expired":                  string(expiredJWT),
			"jwt: bad signature":            string(forged),
			"malformed key or bad checksum": wrongSecret,
		} {
			id := "req-why-" + strings.NewReplacer(" ", "-", ":", "").Replace(reason)
			r := e.sendWithID(id, cred, `{ viewer { kind } }`, nil, "")
			if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") != challenge {
				t.Errorf("%s: %d %q", reason, r.Status, r.Header.Get("WWW-Authenticate"))
			}
			if first.Body == nil {
				first = r
			} else if string(r.Body) != string(first.Body) {
				t.Errorf("%s: the body differs from another reason's:\n%s\n%s", reason, r.Body, first.Body)
			}
			lines := logs.lines(t, id)
			if !slices.ContainsFunc(lines, func(m map[string]any) bool {
				return m["msg"] == "authentication failed" && m["level"] == "INFO" && m["reason"] == reason
			}) {
				t.Errorf("%s: the log does not say why: %v", reason, lines)
			}
			for _, l := range lines {
				for _, v := range l {
					if s, ok := v.(string); ok && (strings.Contains(s, cred) || strings.Contains(s, real)) {
						t.Errorf("%s: a credential reached the log: %v", reason, l)
					}
				}
			}
		}
		// Malformed requests: credentials in the URL, two different secrets.
		req, _ := http.NewRequest(http.MethodGet, e.URL+"/graphql?query=%7B__typename%7D&api_key=x", nil)
		if r := e.send(req); r.Status != http.StatusUnauthorized ||
			!strings.HasPrefix(r.Header.Get("WWW-Authenticate"), `Bearer realm="gatehouse", error="invalid_request"`) {
			t.Errorf("credentials in the URL: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
		}
	})
}
