// Package server assembles Gatehouse's HTTP server: the GraphQL endpoint with
// its limits, authentication, per-request loaders, GraphiQL, health checks and
// CORS.
package server

import "time"

// Config is the server's configuration. Each field is one setting, described
// by its tags, from which the flags, the help and the checks are derived (see
// Loader): env names the variable (the flag is its name without GATEHOUSE_,
// lower case, dashed), envDefault its default, group and help its place and
// line in `gatehouse serve --help`; check is positive, nonnegative, postgres
// or origins; enum lists the accepted words; secret keeps the value out of
// error messages. Adding a setting is adding a field.
type Config struct {
	Addr        string   `env:"GATEHOUSE_ADDR" envDefault:":8080" group:"Server" help:"listen address, host:port"`
	DatabaseURL string   `env:"DATABASE_URL" group:"Database" help:"postgres://… to use PostgreSQL; empty uses the SQLite file" check:"postgres" secret:"true"`
	SQLitePath  string   `env:"GATEHOUSE_SQLITE_PATH" envDefault:"gatehouse.db" group:"Database" help:"the SQLite file, used when DATABASE_URL is empty"`
	CORSOrigins []string `env:"GATEHOUSE_CORS_ORIGINS" envSeparator:"," group:"Server" help:"comma-separated origins (scheme://host[:port]) whose pages may call Gatehouse; none by default" check:"origins"`
	JWTSecret   string   `env:"GATEHOUSE_JWT_HS256_SECRET" group:"Authentication" help:"HS256 secret (at least 32 bytes) for dashboard JWTs" secret:"true"`
	JWKSURL     string   `env:"GATEHOUSE_JWKS_URL" group:"Authentication" help:"or: your identity provider's JWKS URL"`
	JWTIssuer   string   `env:"GATEHOUSE_JWT_ISSUER" group:"Authentication" help:"required iss claim, when set"`
	JWTAudience string   `env:"GATEHOUSE_JWT_AUDIENCE" group:"Authentication" help:"required aud claim, when set"`
	// JWKSAllowHTTP accepts a JWKS URL over plain http on a non-loopback host.
	JWKSAllowHTTP   bool          `env:"GATEHOUSE_JWKS_ALLOW_HTTP" group:"Authentication" help:"accept a plain-http JWKS URL on a non-loopback host"`
	MaxBodyBytes    int64         `env:"GATEHOUSE_MAX_BODY_BYTES" envDefault:"1048576" group:"Limits" help:"larger request bodies get HTTP 413" check:"positive"`
	ParserTokens    int           `env:"GATEHOUSE_MAX_TOKENS" envDefault:"15000" group:"Limits" help:"parser token limit" check:"positive"`
	MaxDepth        int           `env:"GATEHOUSE_MAX_DEPTH" envDefault:"12" group:"Limits" help:"query depth limit" check:"positive"`
	MaxAliases      int           `env:"GATEHOUSE_MAX_ALIASES" envDefault:"30" group:"Limits" help:"aliases per operation" check:"positive"`
	MaxComplexity   int           `env:"GATEHOUSE_MAX_COMPLEXITY" envDefault:"5000" group:"Limits" help:"complexity; connections cost first × their fields" check:"positive"`
	MaxPageSize     int           `env:"GATEHOUSE_MAX_PAGE_SIZE" envDefault:"100" group:"Limits" help:"largest first/last; also the default page" check:"positive"`
	MaxFields       int           `env:"GATEHOUSE_MAX_FIELDS" envDefault:"1000" group:"Limits" help:"field selections per document, fragments expanded" check:"positive"`
	MaxChecks       int           `env:"GATEHOUSE_MAX_CHECKS" envDefault:"100" group:"Limits" help:"questions per authorizeMany" check:"positive"`
	RateLimit       float64       `env:"GATEHOUSE_RATE_LIMIT" envDefault:"100" group:"Limits" help:"requests per second per principal; 0 turns the limit off" check:"nonnegative"`
	RateBurst       int           `env:"GATEHOUSE_RATE_BURST" envDefault:"200" group:"Limits" help:"burst per principal" check:"positive"`
	ShutdownTimeout time.Duration `env:"GATEHOUSE_SHUTDOWN_TIMEOUT" envDefault:"15s" group:"Server" help:"graceful shutdown on SIGINT/SIGTERM" check:"positive"`
	UsageFlush      time.Duration `env:"GATEHOUSE_USAGE_FLUSH_INTERVAL" envDefault:"30s" group:"Server" help:"how often API keys' lastUsedAt and permission usage are written" check:"positive"`
	// CacheTTL bounds how long a server uses a cached account model without
	// reloading it (the fallback if a PostgreSQL notification is lost).
	CacheTTL time.Duration `env:"GATEHOUSE_CACHE_TTL" envDefault:"5s" group:"Server" help:"longest a server decides from a cached account model" check:"positive"`
	// NoListen turns off PostgreSQL LISTEN (tests of the fallback use it).
	NoListen  bool   `env:"GATEHOUSE_NO_LISTEN" group:"Database" help:"do not LISTEN for other servers' changes (the cache TTL alone bounds staleness)"`
	LogLevel  string `env:"GATEHOUSE_LOG_LEVEL" envDefault:"info" group:"Logging" help:"least severe level logged" enum:"debug,info,warn,error"`
	LogFormat string `env:"GATEHOUSE_LOG_FORMAT" envDefault:"text" group:"Logging" help:"log line format" enum:"text,json"`
}

// DatabaseTarget is what database.Open receives: DATABASE_URL when set,
// otherwise the SQLite file.
func (c Config) DatabaseTarget() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return c.SQLitePath
}
