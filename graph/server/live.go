package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/gatehouse-iam/gatehouse/ent"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/live"
	"github.com/gatehouse-iam/gatehouse/graph/loaders"
)

// Subscriptions (L5) arrive as WebSocket upgrades of /graphql speaking
// graphql-transport-ws (or the older graphql-ws). A connection is
// authenticated once, by its connection_init payload (browsers cannot set
// headers on a WebSocket) or by the upgrade's own Authorization header, and
// keeps its credential to check it again at every operation it runs and at
// every change it streams (auth.Session): a revoked or expired credential
// ends its subscriptions and closes it.

// Close codes of graphql-transport-ws.
const (
	closeUnauthorized = 4401 // no credential in connection_init
	closeForbidden    = 4403 // a credential that is wrong, revoked or expired
	closeUnavailable  = 4503 // a credential that cannot be checked now (P5)
	closeTooMany      = 4429 // its principal has GATEHOUSE_MAX_SOCKETS connections open, or its address spent its failed authentications
)

// websocketTransport is the /graphql WebSocket transport.
func websocketTransport(cfg Config, authn *auth.Authenticator, log *slog.Logger) transport.Websocket {
	return transport.Websocket{
		Implementation: timedWrites{transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			OriginPatterns: originHosts(cfg.CORSOrigins),
		}}, cfg.RequestTimeout + writeGrace}, // a message is taken as a response is
		// A message is a request: GATEHOUSE_MAX_BODY_BYTES bounds it too
		// (larger: closed with 1009, message too big).
		PayloadReadLimit:      &cfg.MaxBodyBytes,
		InitFunc:              sessionInit(authn, log),
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 15 * time.Second, // graphql-ws
		PingPongInterval:      30 * time.Second, // graphql-transport-ws
	}
}

// originHosts are the hosts of the CORS origins: pages there may open
// WebSockets too (same-origin pages and clients that send no Origin always
// may).
func originHosts(origins []string) []string {
	var hosts []string
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
}

type upgradeCredentialKey struct{}

// isUpgrade reports a WebSocket upgrade request.
func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// upgrades passes WebSocket upgrades to ws — with no request deadline, as
// they last as long as the connection — and everything else to next. The
// credential of the upgrade's headers, if any, is kept for sessionInit.
func upgrades(ws, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		cred := r.Header.Get("Authorization")
		if cred == "" {
			cred = r.Header.Get("X-API-Key")
		}
		ws.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), upgradeCredentialKey{}, cred)))
	})
}

// sessionInit authenticates a connection from its connection_init payload
// ("Authorization": "Bearer …", or "X-API-Key": "…", in any letter case),
// or else from the upgrade's headers.
func sessionInit(authn *auth.Authenticator, log *slog.Logger) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		cred := ""
		for k := range payload {
			if strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "X-API-Key") {
				cred = payload.GetString(k)
			}
		}
		if cred == "" {
			cred, _ = ctx.Value(upgradeCredentialKey{}).(string)
		}
		refuse := func(code int, msg string) (context.Context, *transport.InitPayload, error) {
			ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), msg)
			return ctx, nil, &initError{msg}
		}
		if strings.TrimSpace(cred) == "" {
			return refuse(closeUnauthorized, `send a credential in connection_init's payload: {"Authorization": "Bearer …"}`)
		}
		p, err := authn.AuthenticateAttempt(ctx, cred)
		var blocked *auth.BlockedError
		switch {
		case errors.As(err, &blocked):
			return refuse(closeTooMany, blocked.Error())
		case auth.IsInvalid(err):
			return refuse(closeForbidden, "invalid, revoked or expired credentials")
		case err != nil:
			log.WarnContext(ctx, "credentials could not be checked", "err", err)
			return refuse(closeUnavailable, "credentials cannot be checked right now; retry shortly")
		case !authenticate(ctx, p.ID):
			return refuse(closeTooMany, "too many connections: this principal has GATEHOUSE_MAX_SOCKETS open on this server")
		}
		ctx, end := context.WithCancel(ctx)
		ctx = auth.WithPrincipal(ctx, p)
		ctx = auth.WithSession(ctx, &auth.Session{
			Recheck: func(ctx context.Context) error {
				again, err := authn.Authenticate(ctx, cred)
				if err == nil && again.ID != p.ID {
					return auth.ErrInvalid
				}
				return err
			},
			End: end,
		})
		return ctx, nil, nil
	}
}

type initError struct{ msg string }

func (e *initError) Error() string { return e.msg }

// registerLive adds the subscriptions' metrics.
func (m *metrics) registerLive(b *live.Broker) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_subscriptions",
			Help: "Live subscriptions (accountChanged) open on this server.",
		}, func() float64 { return float64(b.Active()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_subscription_events_total",
			Help: "Audit events delivered to subscribers.",
		}, func() float64 { return float64(b.Delivered()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_subscriptions_refused_total",
			Help: "Subscriptions refused because their principal had GATEHOUSE_MAX_SUBSCRIPTIONS open.",
		}, func() float64 { return float64(b.Refused()) }),
	)
}

// Subscriptions is the number of live subscriptions on this server.
func (s *Server) Subscriptions() int64 { return s.live.Active() }

// operationScope makes every operation over a WebSocket a request of its
// own, as a plain HTTP request is (socketRateLimit has spent its token):
// the cache of its accounts' access and its loaders are fresh, a
// query or mutation has the request deadline (P5: storage waits end with
// it), and it has an access-log line of its own. The upgrade request's would
// otherwise serve every operation for as long as the connection lasts — the
// access its first operation found, after a demotion; rows loaded before a
// change — and be shared by operations running at once. Its credential is
// checked again by graph.RequireAuthentication.
func operationScope(client *ent.Client, timeout time.Duration, log *slog.Logger) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if auth.SessionFrom(ctx) == nil {
			return next(ctx)
		}
		ctx, logged := socketOperation(ctx, log)
		ctx = loaders.With(iam.WithRequestCache(ctx), client)
		if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation == ast.Subscription {
			return finally(next(ctx), logged) // as long as its client wants
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		return finally(next(ctx), func() { cancel(); logged() })
	}
}

// finally calls end once respond has given its last response.
func finally(respond graphql.ResponseHandler, end func()) graphql.ResponseHandler {
	return func(ctx context.Context) *graphql.Response {
		r := respond(ctx)
		if r == nil {
			end()
		}
		return r
	}
}

// socketOperation gives an operation over a WebSocket its access-log entry,
// with its principal, from now; logged writes its line.
func socketOperation(ctx context.Context, log *slog.Logger) (_ context.Context, logged func()) {
	began := time.Now()
	ctx, e := withEntry(ctx)
	e.setPrincipal(auth.FromContext(ctx))
	return ctx, func() { logOperation(ctx, log, e, began) }
}

// logOperation writes the access-log line of an operation over a WebSocket:
// a request's line but for what only HTTP has (method, path, status, bytes).
func logOperation(ctx context.Context, log *slog.Logger, e *entry, began time.Time) {
	var buf [10]slog.Attr
	attrs := append(buf[:0],
		slog.String("transport", "websocket"),
		slog.Duration("duration", time.Since(began)),
		slog.String("client_addr", auth.MetaFrom(ctx).ClientAddr),
	)
	log.LogAttrs(ctx, slog.LevelInfo, "operation", e.appendAttrs(attrs)...)
}

// timedWrites is a WebSocket implementation whose every message must be
// taken within timeout, or the connection is closed: gqlgen writes without
// a deadline, under the connection's lock, and starts a goroutine per
// message it reads. A client that stopped reading (after one unsolicited
// pong, which lifts the missing-pong deadline) held every write, and with
// it each operation it went on sending, for as long as it kept the
// connection: goroutines without bound on one connection.
type timedWrites struct {
	transport.WebsocketImplementation
	timeout time.Duration
}

func (t timedWrites) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := t.WebsocketImplementation.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	return &timedConn{WebsocketConn: c, timeout: t.timeout}, nil
}

type timedConn struct {
	transport.WebsocketConn
	timeout time.Duration
}

// WriteJSON writes v, closing the connection if it is not taken in time
// (which ends the write).
func (c *timedConn) WriteJSON(v any) error {
	t := time.AfterFunc(c.timeout, func() { _ = c.Close() })
	defer t.Stop()
	return c.WebsocketConn.WriteJSON(v)
}

// SetReadLimit and SetReadDeadline are the wrapped connection's.
func (c *timedConn) SetReadLimit(n int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(n)
	}
}

func (c *timedConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// socketRateLimit spends, for each operation over a WebSocket, a token of
// its principal's rate limit before the operation is parsed and validated,
// as the HTTP middleware does before gqlgen runs: beyond the limit it is
// refused with RATE_LIMITED and retryAfter (and an access-log line), the
// connection staying open. Spent later, in operationScope, parsing,
// validation and the limits' walk of every document a client sent ran
// without limit.
type socketRateLimit struct {
	limiter *rateLimiter
	present graphql.ErrorPresenterFunc
	log     *slog.Logger
}

var _ graphql.OperationParameterMutator = socketRateLimit{}

func (socketRateLimit) ExtensionName() string                   { return "SocketRateLimit" }
func (socketRateLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (s socketRateLimit) MutateOperationParameters(ctx context.Context, _ *graphql.RawParams) *gqlerror.Error {
	if auth.SessionFrom(ctx) == nil {
		return nil // a plain request: the HTTP middleware spent its token
	}
	err := s.limiter.admit(ctx)
	if err == nil {
		return nil
	}
	ctx, logged := socketOperation(ctx, s.log)
	refused := s.present(ctx, err) // notes its code in the entry
	logged()
	return refused
}
