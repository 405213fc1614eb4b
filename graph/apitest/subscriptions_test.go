package apitest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/coder/websocket"
	"github.com/tidwall/gjson"

	"github.com/gatehouse-iam/gatehouse/graph/server"
)

const accountChanged = `subscription($a: ID!, $after: Int) {
	accountChanged(accountId: $a, after: $after) { id seq action targetType targetID actorType actorLabel changes } }`

func watch(a string) map[string]any { return map[string]any{"a": a} }

func watchAfter(a string, seq int64) map[string]any { return map[string]any{"a": a, "after": seq} }

// L5 across servers: a change committed through one server reaches the
// subscribers of its account on another, as its audit event; a subscriber
// of another account on the same server receives nothing of it.
func TestL5_SubscribersSeeChangesMadeOnOtherServers(t *testing.T) {
	if postgresURL() == "" {
		t.Skip("needs PostgreSQL: set GATEHOUSE_TEST_POSTGRES_URL")
	}
	t.Parallel()
	writer := newEnv(t, dialect.Postgres, server.Config{})
	reader := writer.secondServer(t, server.Config{})
	a := writer.newAccount("l5x", nil)
	b := writer.newAccount("l5y", nil)

	sa := reader.connectWS(t, a.Owner)
	sa.subscribe("a", accountChanged, watch(a.ID))
	sb := reader.connectWS(t, b.Owner)
	sb.subscribe("b", accountChanged, watch(b.ID))
	// A subscription is registered once its first wake-up can be seen: a
	// change on the reader itself confirms both are.
	writer.waitSubscribed(t, reader, 2)

	var worst time.Duration
	for i := range 5 {
		start := time.Now()
		role := writer.createRole(a.Owner, a.ID, "Live "+string(rune('A'+i)), []string{"AgentChat"})
		ev := sa.event("a")
		took := time.Since(start)
		worst = max(worst, took)
		if ev.Get("action").String() != "role.created" || ev.Get("targetID").String() != role ||
			ev.Get("actorType").String() != "USER" || ev.Get("actorLabel").String() != a.OwnerEmail {
			t.Fatalf("event: %s", ev.Raw)
		}
	}
	t.Logf("changes reached the other server's subscriber within %s (the slowest of 5, request included)", worst.Round(time.Millisecond))
	// Nothing of account a reached b's subscriber: its next event is b's own.
	sb.nothingBefore("b", func() { writer.createRole(b.Owner, b.ID, "Mine", nil) },
		func(ev gjson.Result) bool { return ev.Get("action").String() == "role.created" })
}

// waitSubscribed waits until n subscriptions are registered on s.
func (e *env) waitSubscribed(t *testing.T, s *env, n int64) {
	t.Helper()
	for start := time.Now(); time.Since(start) < wsWait; time.Sleep(5 * time.Millisecond) {
		if s.Server.Subscriptions() >= n {
			return
		}
	}
	t.Fatalf("%d subscriptions registered after %s, want %d", s.Server.Subscriptions(), wsWait, n)
}

// L5 on one server, each database: the events are the audit log's, in order,
// exactly once; another account's subscriber gets nothing of them, and one
// of an account it cannot see is refused.
func TestL5_SubscribersSeeTheirAccountOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("l5a", nil)
		b := e.newAccount("l5b", nil)
		sa := e.connectWS(t, a.Owner)
		sa.subscribe("1", accountChanged, watch(a.ID))
		sb := e.connectWS(t, b.Owner)
		sb.subscribe("1", accountChanged, watch(b.ID))
		e.waitSubscribed(t, e, 2)

		var seqs []int64
		for i := range 3 {
			e.createRole(a.Owner, a.ID, "R"+string(rune('a'+i)), nil)
			seqs = append(seqs, sa.event("1").Get("seq").Int())
		}
		if seqs[1] != seqs[0]+1 || seqs[2] != seqs[1]+1 {
			t.Fatalf("seqs %v are not consecutive", seqs)
		}
		sb.nothingBefore("1", func() { e.createRole(b.Owner, b.ID, "Own", nil) },
			func(ev gjson.Result) bool { return ev.Get("action").String() == "role.created" })

		// a's owner may not see b: NOT_FOUND, as for a query, and nothing else.
		sa.subscribe("2", accountChanged, watch(b.ID))
		if m := sa.next(); errorCode(m) != "NOT_FOUND" || m.Get("payload.data").Raw != "null" {
			t.Fatalf("subscribing to another account: %s", m.Raw)
		}
	})
}

// errorCode is the code of an error message, or of a next message's errors.
func errorCode(m gjson.Result) string {
	if m.Get("type").String() == "error" {
		return m.Get("payload.0.extensions.code").String()
	}
	return m.Get("payload.errors.0.extensions.code").String()
}

// L5: a client that reconnects resumes after the last event it saw, with
// every event since delivered once, in order — also ones committed while it
// was away.
func TestL5_ResumeAfterACursorHasNoGaps(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("l5r", nil)
		for i := range 3 {
			e.createRole(a.Owner, a.ID, "Before "+string(rune('a'+i)), nil)
		}
		c := e.connectWS(t, a.Owner)
		c.subscribe("all", accountChanged, watchAfter(a.ID, 0))
		first := c.event("all")
		if first.Get("seq").Int() != 1 || first.Get("action").String() != "account.created" {
			t.Fatalf("the log starts with: %s", first.Raw)
		}
		last := first.Get("seq").Int()
		for last < 4 { // account.created, then three roles
			ev := c.event("all")
			if ev.Get("seq").Int() != last+1 {
				t.Fatalf("after seq %d came %s", last, ev.Raw)
			}
			last = ev.Get("seq").Int()
		}
		_ = c.conn.Close(websocket.StatusNormalClosure, "bye")

		// Away: three more changes.
		for i := range 3 {
			e.createRole(a.Owner, a.ID, "Away "+string(rune('a'+i)), nil)
		}
		again := e.connectWS(t, a.Owner)
		again.subscribe("resume", accountChanged, watchAfter(a.ID, last))
		e.waitSubscribed(t, e, 1)
		e.createRole(a.Owner, a.ID, "Back", nil) // and one after reconnecting
		for want := last + 1; want <= last+4; want++ {
			ev := again.event("resume")
			if ev.Get("seq").Int() != want {
				t.Fatalf("want seq %d, got %s", want, ev.Raw)
			}
		}
	})
}

// L5: revoking the key a subscription authenticated with ends it with
// UNAUTHENTICATED and closes the connection; a new one with the revoked key
// is refused.
func TestL5_RevokingTheKeyClosesTheSubscription(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("l5k", nil)
		k := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "watcher"})
		id, secret := k.Get("data.createApiKey.apiKey.id").String(), k.Get("data.createApiKey.secret").String()
		c := e.connectWS(t, secret)
		c.subscribe("1", accountChanged, watch(a.ID))
		e.waitSubscribed(t, e, 1)
		e.createRole(a.Owner, a.ID, "Seen", nil)
		if c.event("1").Get("action").String() != "role.created" {
			t.Fatal("no event before the revocation")
		}
		e.ok(a.Owner, revokeKey, map[string]any{"id": id})
		m := c.next()
		if m.Get("type").String() != "error" || errorCode(m) != "UNAUTHENTICATED" {
			t.Fatalf("after the revocation: %s", m.Raw)
		}
		if code := c.closed(); code != websocket.StatusNormalClosure {
			t.Fatalf("closed with %d", code)
		}
		if code := e.dialWS(t, map[string]any{"Authorization": "Bearer " + secret}).closed(); code != 4403 {
			t.Fatalf("a revoked key's connection_init: closed with %d, want 4403", code)
		}
	})
}

// L5: a member who loses iam.audit.read (here: its role no longer grants
// it) has its subscription ended with FORBIDDEN at the change that took it.
func TestL5_LosingThePermissionEndsTheSubscription(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("l5p", nil)
		auditor := e.createRole(a.Owner, a.ID, "Auditor", []string{"iam.audit.read"})
		plain := e.createRole(a.Owner, a.ID, "Plain", []string{"AgentChat"})
		m := e.addMember(a.Owner, a.ID, "eve@l5p.test", auditor)
		c := e.connectWS(t, userToken(t, "eve@l5p.test"))
		c.subscribe("1", accountChanged, watch(a.ID))
		e.waitSubscribed(t, e, 1)
		e.ok(a.Owner, `mutation($in: SetMemberRolesInput!) { setMemberRoles(input: $in) { member { id } } }`,
			map[string]any{"in": map[string]any{"memberId": m, "roleIds": []string{plain}}})
		msg := c.next()
		if msg.Get("type").String() != "error" || errorCode(msg) != "FORBIDDEN" {
			t.Fatalf("after losing iam.audit.read: %s", msg.Raw)
		}
		// Without the permission a new subscription is refused at once.
		c.subscribe("2", accountChanged, watch(a.ID))
		if msg := c.next(); errorCode(msg) != "FORBIDDEN" {
			t.Fatalf("subscribing without iam.audit.read: %s", msg.Raw)
		}
	})
}

// L5: a principal has at most GATEHOUSE_MAX_SUBSCRIPTIONS subscriptions on a
// server (RATE_LIMITED beyond); ending one makes room; /metrics (on the admin listener) counts
// them.
func TestL5_SubscriptionsPerPrincipalAreLimited(t *testing.T) {
	forEachDBWith(t, server.Config{MaxSubscriptions: 2}, func(t *testing.T, e *env) {
		a := e.newAccount("l5l", nil)
		c := e.connectWS(t, a.Owner)
		c.subscribe("1", accountChanged, watch(a.ID))
		c.subscribe("2", accountChanged, watch(a.ID))
		e.waitSubscribed(t, e, 2)
		c.subscribe("3", accountChanged, watch(a.ID))
		m := c.next()
		if errorCode(m) != "RATE_LIMITED" || m.Get("id").String() != "3" {
			t.Fatalf("a third subscription: %s", m.Raw)
		}
		if m := c.next(); m.Get("type").String() != "complete" || m.Get("id").String() != "3" {
			t.Fatalf("after the refusal: %s", m.Raw)
		}
		metrics := adminOf(t, e).text()
		if !strings.Contains(metrics, "gatehouse_subscriptions 2") || !strings.Contains(metrics, "gatehouse_subscriptions_refused_total 1") {
			t.Fatalf("metrics:\n%s", grepLines(metrics, "gatehouse_subscription"))
		}
		// Another principal is not limited by this one.
		other := e.connectWS(t, e.Operator)
		other.subscribe("1", accountChanged, watch(a.ID))
		e.waitSubscribed(t, e, 3)
		c.send(map[string]any{"id": "1", "type": "complete"})
		if m := c.next(); m.Get("type").String() != "complete" || m.Get("id").String() != "1" {
			t.Fatalf("after completing 1: %s", m.Raw)
		}
		for start := time.Now(); e.Server.Subscriptions() != 2; time.Sleep(5 * time.Millisecond) {
			if time.Since(start) > wsWait {
				t.Fatal("completing a subscription did not end it")
			}
		}
		c.subscribe("4", accountChanged, watch(a.ID))
		e.waitSubscribed(t, e, 3)
		e.createRole(a.Owner, a.ID, "Both", nil)
		got := map[string]bool{}
		for range 2 { // the two subscriptions' events, in either order
			m := c.next()
			got[m.Get("id").String()] = m.Get("payload.data.accountChanged.action").String() == "role.created"
		}
		if !got["2"] || !got["4"] {
			t.Fatalf("subscriptions 2 and 4 got %v", got)
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// L5, P4: a connection without a credential, or with a wrong one, is closed
// with graphql-transport-ws's 4401 and 4403.
func TestL5_ConnectionsNeedACredential(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		if code := e.dialWS(t, nil).closed(); code != 4401 {
			t.Errorf("no payload: closed with %d, want 4401", code)
		}
		if code := e.dialWS(t, map[string]any{"Authorization": "Bearer gk_nope"}).closed(); code != 4403 {
			t.Errorf("a malformed key: closed with %d, want 4403", code)
		}
		// X-API-Key works as in HTTP headers.
		a := e.newAccount("l5c", nil)
		secret := e.ownerKey(a)
		c := e.dialWS(t, map[string]any{"x-api-key": secret})
		if m := c.next(); m.Get("type").String() != "connection_ack" {
			t.Fatalf("X-API-Key: %s", m.Raw)
		}
	})
}

// query runs one query or mutation over c and returns its result.
func (c *wsConn) query(id, query string, vars map[string]any) gjson.Result {
	c.t.Helper()
	c.subscribe(id, query, vars)
	m := c.next()
	if m.Get("type").String() != "next" {
		c.t.Fatalf("operation %s: %s", id, m.Raw)
	}
	if done := c.next(); done.Get("type").String() != "complete" {
		c.t.Fatalf("operation %s not complete: %s", id, done.Raw)
	}
	return m.Get("payload")
}

// D6, M2 over a WebSocket: every operation on an open connection is a request
// of its own — it meets the access the member has now, not the one the
// connection's first operation found, and reads what was committed since
// (not rows its first operation loaded).
func TestD6_OperationsOverTheSocketSeeTheAccountAsItIsNow(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("wsq", nil)
		reader := e.createRole(a.Owner, a.ID, "Reader", []string{"iam.roles.read", "iam.members.read"})
		plain := e.createRole(a.Owner, a.ID, "Plain", []string{"AgentChat"})
		m := e.addMember(a.Owner, a.ID, "eve@wsq.test", reader)
		c := e.connectWS(t, userToken(t, "eve@wsq.test"))
		holders := `query($r: ID!) { node(id: $r) { ... on Role { holderCount } } }`
		if p := c.query("1", holders, map[string]any{"r": plain}); p.Get("data.node.holderCount").Int() != 0 {
			t.Fatalf("holders of plain: %s", p.Raw)
		}
		e.addMember(a.Owner, a.ID, "bob@wsq.test", plain)
		if p := c.query("2", holders, map[string]any{"r": plain}); p.Get("data.node.holderCount").Int() != 1 {
			t.Fatalf("holders of plain after another client added one: %s", p.Raw)
		}
		e.ok(a.Owner, `mutation($in: SetMemberRolesInput!) { setMemberRoles(input: $in) { member { id } } }`,
			map[string]any{"in": map[string]any{"memberId": m, "roleIds": []string{plain}}})
		p := c.query("3", `query($a: ID!) { account(id: $a) { roles { totalCount } } }`, map[string]any{"a": a.ID})
		if code := p.Get("errors.0.extensions.code").String(); code != "FORBIDDEN" || p.Get("data.account.roles").Exists() {
			t.Fatalf("roles read after the demotion: %s", p.Raw)
		}
	})
}

// S5, P3 over a WebSocket: a key revoked while its connection is open stops
// working there at once — the next operation is UNAUTHENTICATED, and the
// connection closes; or, when the session's recheck of the credential (on
// the account's change) comes first, the connection is closed before the
// operation is answered. Either way nothing more is read with the key.
func TestS5_RevokedKeyStopsWorkingOnOpenSockets(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		a := e.newAccount("wsk", nil)
		k := e.createKey(a.Owner, map[string]any{"accountId": a.ID, "name": "k", "permissions": []string{"iam.roles.read"}})
		id, secret := k.Get("data.createApiKey.apiKey.id").String(), k.Get("data.createApiKey.secret").String()
		c := e.connectWS(t, secret)
		q := `query($a: ID!) { account(id: $a) { roles { totalCount } } }`
		if p := c.query("1", q, map[string]any{"a": a.ID}); p.Get("data.account.roles.totalCount").Int() == 0 {
			t.Fatalf("before the revocation: %s", p.Raw)
		}
		e.ok(a.Owner, revokeKey, map[string]any{"id": id})
		c.subscribe("2", q, map[string]any{"a": a.ID})
		if m, err := c.read(wsWait); err == nil {
			if p := m.Get("payload"); m.Get("type").String() != "next" ||
				p.Get("errors.0.extensions.code").String() != "UNAUTHENTICATED" || p.Get("data.account.roles").Exists() {
				t.Fatalf("after the revocation: %s", m.Raw)
			}
			if code := c.closed(); code != websocket.StatusNormalClosure {
				t.Fatalf("closed with %d", code)
			}
		} else if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
			t.Fatalf("after the revocation, the connection ended with %v", err)
		}
	})
}

// Rate limits over a WebSocket: operations on an open connection spend their
// principal's requests as plain requests do (RATE_LIMITED with retryAfter
// beyond), before they are parsed, as over HTTP; the connection stays open.
func TestLimits_RateLimitedOverTheSocket(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{RateLimit: 0.001, RateBurst: 3})
	c := e.connectWS(t, e.Operator)
	for i := range 3 {
		if p := c.query(fmt.Sprint(i), `{ viewer { kind } }`, nil); p.Get("data.viewer.kind").String() != "OPERATOR" {
			t.Fatalf("operation %d: %s", i+1, p.Raw)
		}
	}
	c.subscribe("4", `{ viewer { kind } }`, nil)
	m := c.next()
	if errorCode(m) != "RATE_LIMITED" || m.Get("payload.errors.0.extensions.retryAfter").Int() < 1 {
		t.Fatalf("the fourth operation: %s", m.Raw)
	}
	if r := e.gql(e.Operator, `{ viewer { kind } }`, nil); r.Status != http.StatusTooManyRequests {
		t.Fatalf("a plain request of the same principal: %s", r)
	}
	// Refused before parsing: a malformed document beyond the limit is
	// RATE_LIMITED, not a parse error (which cost the parse).
	c.subscribe("5", `{ viewer { kind `, nil)
	m = c.next()
	for m.Get("id").String() != "5" { // the fourth's complete
		m = c.next()
	}
	if errorCode(m) != "RATE_LIMITED" {
		t.Fatalf("a malformed document beyond the limit: %s", m.Raw)
	}
}

// Limits over a WebSocket: a message is a request, and one larger than
// GATEHOUSE_MAX_BODY_BYTES closes its connection with 1009 (message too
// big), as a larger body gets 413 over HTTP. Before, messages had gqlgen's
// own 1 MB, whatever the setting.
func TestLimits_AMessageOverTheBodyLimitClosesTheSocket(t *testing.T) {
	e := newEnv(t, dialect.SQLite, server.Config{MaxBodyBytes: 4096})
	c := e.connectWS(t, e.Operator)
	if p := c.query("1", `{ viewer { kind } }`, nil); p.Get("data.viewer.kind").String() != "OPERATOR" {
		t.Fatalf("a message under the limit: %s", p.Raw)
	}
	c.subscribe("2", `query($pad: String) { viewer { kind } }`, map[string]any{"pad": strings.Repeat("x", 8192)})
	if code := c.closed(); code != websocket.StatusMessageTooBig {
		t.Fatalf("a message of 8 KB over a limit of 4 KB: closed with %d, want %d", code, websocket.StatusMessageTooBig)
	}
}

// P5 over a WebSocket: a message not taken within the request timeout and
// 5 s more closes its connection, as an HTTP response not taken ends its
// request. Before, a client that stopped reading held the server's writes,
// and every operation it went on sending, for as long as it kept the
// connection; once it read again, every answer was there.
func TestP5_AClientThatStopsReadingLosesItsConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dialect.SQLite, server.Config{RequestTimeout: time.Second, RateLimit: 0})
	c := e.connectWS(t, e.Operator)
	const introspect = `{ __schema { types { name description fields { name description args { name description } } } } }`
	size := len(c.query("0", introspect, nil).Raw)
	n := 1 + (16<<20)/size // more than the sockets' buffers hold
	for i := range n {
		c.subscribe(fmt.Sprint(i+1), introspect, nil)
	}
	time.Sleep(time.Second + 5*time.Second + 2*time.Second) // the write deadline, with room
	answers := 0
	for {
		m, err := c.read(wsWait)
		if err != nil {
			break // the server closed the connection
		}
		if m.Get("type").String() == "complete" {
			answers++
		}
		if answers == n {
			t.Fatalf("all %d answers of %d KB were kept for a client that did not read", n, size>>10)
		}
	}
	t.Logf("%d of %d answers of %d KB before the close", answers, n, size>>10)
}

// L5: a principal keeps at most GATEHOUSE_MAX_SOCKETS connections open on a
// server: one more is closed with 4429 at connection_init, another
// principal is not bounded by it, and closing one makes room. A client
// address has at most as many connections awaiting connection_init: one
// more upgrade gets 429. Before, every connection a principal opened at its
// request rate stayed open, and so did every one awaiting connection_init
// for its 10 s.
func TestL5_WebSocketsPerPrincipalAreBounded(t *testing.T) {
	forEachDBWith(t, server.Config{MaxSockets: 2}, func(t *testing.T, e *env) {
		a := e.newAccount("l5s", nil)
		first := e.connectWS(t, a.Owner)
		e.connectWS(t, a.Owner)
		if code := e.dialWS(t, map[string]any{"Authorization": "Bearer " + a.Owner}).closed(); code != 4429 {
			t.Fatalf("a third connection of one principal: closed with %d, want 4429", code)
		}
		e.connectWS(t, e.Operator)
		_ = first.conn.Close(websocket.StatusNormalClosure, "")
		for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
			c := e.dialWS(t, map[string]any{"Authorization": "Bearer " + a.Owner})
			if m, err := c.read(wsWait); err == nil && m.Get("type").String() == "connection_ack" {
				break
			}
			if time.Since(start) > wsWait {
				t.Fatal("closing a connection made no room for another")
			}
		}

		url := "ws" + strings.TrimPrefix(e.URL, "http") + "/graphql"
		dial := func() (*websocket.Conn, int) {
			ctx, cancel := context.WithTimeout(context.Background(), wsWait)
			defer cancel()
			conn, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
			if err != nil {
				if res == nil {
					t.Fatalf("dial: %v", err)
				}
				return nil, res.StatusCode
			}
			t.Cleanup(func() { _ = conn.CloseNow() })
			return conn, http.StatusSwitchingProtocols
		}
		// Two awaiting connection_init, once the refused connections above
		// are no longer counted for the address.
		for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
			c1, s1 := dial()
			c2, s2 := dial()
			if s1 == http.StatusSwitchingProtocols && s2 == http.StatusSwitchingProtocols {
				break
			}
			for _, c := range []*websocket.Conn{c1, c2} {
				if c != nil {
					_ = c.CloseNow()
				}
			}
			if time.Since(start) > wsWait {
				t.Fatalf("two connections awaiting connection_init: %d, %d", s1, s2)
			}
		}
		if _, status := dial(); status != http.StatusTooManyRequests {
			t.Fatalf("a third connection awaiting connection_init: %d, want 429", status)
		}
		if m := adminOf(t, e).text(); !strings.Contains(m, `gatehouse_rate_limited_total{limit="sockets"}`) {
			t.Fatalf("metrics:\n%s", grepLines(m, "gatehouse_rate_limited"))
		}
	})
}
