package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/rs/cors"

	"github.com/gatehouse-iam/gatehouse/graph"
	"github.com/gatehouse-iam/gatehouse/graph/auth"
	"github.com/gatehouse-iam/gatehouse/graph/auth/jwtauth"
	"github.com/gatehouse-iam/gatehouse/graph/database"
	"github.com/gatehouse-iam/gatehouse/graph/graphiql"
	"github.com/gatehouse-iam/gatehouse/graph/iam"
	"github.com/gatehouse-iam/gatehouse/graph/limits"
	"github.com/gatehouse-iam/gatehouse/graph/live"
	"github.com/gatehouse-iam/gatehouse/graph/loaders"
)

// Server is Gatehouse's HTTP handler with what it was built from.
type Server struct {
	http.Handler
	// Admin is the admin listener's handler (GATEHOUSE_ADMIN_ADDR):
	// /metrics, and /debug/pprof/ when enabled.
	Admin   http.Handler
	Service *iam.Service
	stop    context.CancelFunc
	done    chan struct{}
	feed    *database.Feed
	live    *live.Broker
	// draining is set once shutdown begins: /readyz answers 503 from then on.
	draining atomic.Bool
}

// Close ends the subscriptions and stops the background work (writing key
// usage, signing audit checkpoints) after a last round of each.
func (s *Server) Close() {
	s.live.Close()
	s.stop()
	<-s.done
	s.feed.Close()
}

// Drain makes /readyz answer 503, so that load balancers stop sending new
// requests while the ones in flight finish; call it when shutdown begins.
func (s *Server) Drain() { s.draining.Store(true) }

// New builds the HTTP handler over an open, migrated database.
func New(ctx context.Context, cfg Config, db *database.DB, log *slog.Logger, with ...Option) (*Server, error) {
	cfg = cfg.withDefaults()
	var o options
	for _, opt := range with {
		opt(&o)
	}
	log = withRequestIDs(log)
	signer, auditPub, err := auditKeys(cfg)
	if err != nil {
		return nil, err
	}
	trusted, err := parseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	met := newMetrics(db.SQL, o.version, o.commit)
	svc := iam.New(db.Client, db.Dialect, log, iam.Options{
		MaxChecks: cfg.MaxChecks, CacheBytes: int64(cfg.ModelCacheMB * (1 << 20)), LockWait: cfg.DBLockTimeout, Observer: met,
		StepTimeout: cfg.RequestTimeout,
	})
	svc.SetAuditKeys(signer, auditPub)
	broker := live.New(cfg.MaxSubscriptions)
	svc.SetBroker(broker)
	if err := svc.EnsureBuiltins(ctx); err != nil {
		return nil, err
	}
	met.registerLive(broker)
	authn := &auth.Authenticator{Store: newStore(db.Client, svc), Log: log,
		Outage:   func(context.Context) { met.unavailable.WithLabelValues("authentication").Inc() },
		Failures: newFailureLimiter(cfg.AuthFailureRate, cfg.AuthFailureBurst, met)}
	if cfg.JWTSecret != "" || cfg.JWKSURL != "" {
		v, err := jwtauth.New(ctx, jwtauth.Config{
			HS256Secret: cfg.JWTSecret, JWKSURL: cfg.JWKSURL,
			Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, AllowInsecureJWKS: cfg.JWKSAllowHTTP,
		})
		if err != nil {
			return nil, err
		}
		authn.JWT = v
	}

	gql := handler.New(graph.NewSchema(svc, cfg.MaxPageSize))
	gql.AddTransport(transport.Options{})
	gql.AddTransport(websocketTransport(cfg, authn, log)) // before GET: an upgrade is a GET
	gql.AddTransport(get{})
	gql.AddTransport(post{})
	gql.SetQueryCache(newQueryCache())
	gql.SetParserTokenLimit(cfg.ParserTokens)
	obs := observe{met: met, tracer: o.tracer()}
	gql.Use(obs)
	// An operation over a WebSocket is refused by the rate limit before it
	// is parsed, and before it waits for admission.
	present, limiter := presenter(log, met), newRateLimiter(cfg.RateLimit, cfg.RateBurst, met)
	gql.Use(socketRateLimit{limiter, present, log})
	gql.AroundOperations(operationScope(db.Client, cfg.RequestTimeout, log))
	gql.Use(newAdmission(cfg.ActiveQueries, cfg.QueryQueueWait, met))
	gql.Use(extension.Introspection{})
	gql.Use(extension.AutomaticPersistedQuery{Cache: newPersistedQueries()})
	gql.Use(limits.New(limits.Config{
		MaxDepth: cfg.MaxDepth, MaxAliases: cfg.MaxAliases,
		MaxComplexity: cfg.MaxComplexity, MaxPageSize: cfg.MaxPageSize,
		MaxFields: cfg.MaxFields, Tokens: cfg.ParserTokens, MaxInputItems: cfg.MaxInputItems,
	}))
	gql.SetErrorPresenter(present)
	gql.SetRecoverFunc(recoverFunc(log))
	gql.AroundRootFields(graph.RequireAuthentication)
	gql.AroundFields(obs.fieldMiddleware)

	// Outermost first: request metadata, body limits, authentication, rate
	// limit, then the per-request loaders and cache.
	authenticated := func(next http.Handler) http.Handler {
		return authn.Middleware(notePrincipal(limiter.Middleware(perRequest(db, next))))
	}
	api := bounded(cfg.RequestTimeout, bodyLimit(cfg.MaxBodyBytes, getOnlyQueries(cfg.ParserTokens, authenticated(gql))))
	// Subscriptions: the same chain but for the body limit and the deadline.
	ws := authenticated(gql)

	mux := http.NewServeMux()
	mux.Handle("/graphql", met.instrument("graphql", browsers(upgrades(newSocketLimit(cfg.MaxSockets, met).admit(ws), api))))
	mux.Handle("POST /v1/authorize", met.instrument("authorize_api", bounded(cfg.RequestTimeout, bodyLimit(cfg.MaxBodyBytes,
		authn.Middleware(notePrincipal(limiter.Middleware(decisionAPI(svc, log, met))))))))
	// Exports stream for as long as the log is long: no request deadline,
	// but the client must keep taking them.
	export := func(h http.Handler) http.Handler {
		return met.instrument("audit_export", streaming(cfg.RequestTimeout, authenticated(h)))
	}
	mux.Handle("GET /accounts/{id}/audit.csv", export(auditCSV(svc)))
	mux.Handle("GET /accounts/{id}/audit.jsonl", export(auditJSONL(svc, log)))
	mux.Handle("GET /platform/audit.jsonl", export(auditJSONL(svc, log)))
	mux.Handle("GET /{$}", met.instrument("graphiql", graphiql.Handler("Gatehouse", "/graphql", "/graphiql/")))
	// GraphiQL's script is 1 MB (300 KB gzipped): a slow link takes it for
	// as long as it keeps taking it.
	mux.Handle("GET /graphiql/", met.instrument("graphiql_assets", streaming(cfg.RequestTimeout, graphiql.Assets("/graphiql/"))))
	mux.Handle("GET /healthz", met.instrument("healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})))
	srv := &Server{Service: svc, done: make(chan struct{}), live: broker, Admin: adminHandler(met, cfg.Pprof)}
	mux.Handle("GET /readyz", met.instrument("readyz", srv.ready(db)))

	opts := cors.Options{
		AllowedOrigins: cfg.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type", "X-API-Key", "X-Request-Id"},
		ExposedHeaders: []string{"X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"},
		MaxAge:         600,
	}
	if len(cfg.CORSOrigins) == 0 {
		// rs/cors allows every origin when given none: no browser page of
		// another origin may call Gatehouse unless configured to.
		opts.AllowOriginFunc = func(string) bool { return false }
	}
	c := cors.New(opts)
	srv.Handler = deadlines(cfg.RequestTimeout, cfg.RequestTimeout+writeGrace, o.traceHTTP(requestMeta(trusted, log, c.Handler(mux))))
	var bg context.Context
	bg, srv.stop = context.WithCancel(context.WithoutCancel(ctx))
	follow, err := srv.follow(bg, cfg, db, log, met)
	if err != nil {
		srv.stop()
		return nil, err
	}
	go func() {
		defer close(srv.done)
		var wg sync.WaitGroup
		wg.Go(follow) // done before Close closes the feed
		wg.Go(func() { svc.RunAuditCheckpointer(bg, checkpointInterval(cfg)) })
		wg.Go(func() { svc.SendNotifications(bg) })
		wg.Go(func() {
			if err := svc.CompleteMasterLists(bg); err != nil && bg.Err() == nil {
				log.Error("built-in permissions: completing master lists failed; the next start tries again", "err", err)
			}
		})
		svc.RunUsageFlusher(bg, cfg.UsageFlush)
		wg.Wait()
	}()
	return srv, nil
}

// follow keeps the server's models current with every server's commits
// (D6): the change feed polls; on PostgreSQL, LISTEN wakes it at once, and a
// listener that reconnects makes it catch up. It reads the feed once, and
// returns what reads it until ctx ends.
func (s *Server) follow(ctx context.Context, cfg Config, db *database.DB, log *slog.Logger, met *metrics) (func(), error) {
	feed, err := db.Feed()
	if err != nil {
		return nil, err
	}
	s.feed = feed
	wake := make(chan struct{}, 1)
	poke := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	if db.Dialect == dialect.Postgres && !cfg.NoListen {
		notified := func(payload string) {
			met.notified(payload)
			if !s.Service.OwnNotification(payload) {
				poke()
			}
		}
		err := database.Listen(ctx, db.URL, iam.InvalidationChannel, notified, poke, log)
		if err != nil {
			return nil, err
		}
	}
	return s.Service.Follow(ctx, feed, cfg.ChangePollInterval, cfg.MaxStaleness, wake)
}

// ready answers /readyz: 503 once shutdown has begun, while the database
// cannot be reached, and while the change feed is behind (P5).
func (s *Server) ready(db *database.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.SQL.PingContext(ctx); err != nil || !s.Service.Current() {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	}
}

// perRequest gives each request its loaders (requestMeta gave it its iam
// cache).
func perRequest(db *database.DB, next http.Handler) http.Handler {
	return loaders.Middleware(db.Client, next)
}
