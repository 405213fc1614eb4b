// Package server assembles Gatehouse's HTTP server: the GraphQL endpoint with
// its limits, authentication, per-request loaders, GraphiQL, health checks and
// CORS.
package server

import "time"

// Config is the server's configuration; every field can be set from the
// environment (see the README's table) and most by flags.
type Config struct {
	Addr        string   `env:"GATEHOUSE_ADDR" envDefault:":8080"`
	DatabaseURL string   `env:"DATABASE_URL"`
	SQLitePath  string   `env:"GATEHOUSE_SQLITE_PATH" envDefault:"gatehouse.db"`
	CORSOrigins []string `env:"GATEHOUSE_CORS_ORIGINS" envSeparator:","`
	JWTSecret   string   `env:"GATEHOUSE_JWT_HS256_SECRET"`
	JWKSURL     string   `env:"GATEHOUSE_JWKS_URL"`
	JWTIssuer   string   `env:"GATEHOUSE_JWT_ISSUER"`
	JWTAudience string   `env:"GATEHOUSE_JWT_AUDIENCE"`
	// JWKSAllowHTTP accepts a JWKS URL over plain http on a non-loopback host.
	JWKSAllowHTTP   bool          `env:"GATEHOUSE_JWKS_ALLOW_HTTP"`
	MaxBodyBytes    int64         `env:"GATEHOUSE_MAX_BODY_BYTES" envDefault:"1048576"`
	ParserTokens    int           `env:"GATEHOUSE_MAX_TOKENS" envDefault:"15000"`
	MaxDepth        int           `env:"GATEHOUSE_MAX_DEPTH" envDefault:"12"`
	MaxAliases      int           `env:"GATEHOUSE_MAX_ALIASES" envDefault:"30"`
	MaxComplexity   int           `env:"GATEHOUSE_MAX_COMPLEXITY" envDefault:"5000"`
	MaxPageSize     int           `env:"GATEHOUSE_MAX_PAGE_SIZE" envDefault:"100"`
	MaxFields       int           `env:"GATEHOUSE_MAX_FIELDS" envDefault:"1000"`
	MaxChecks       int           `env:"GATEHOUSE_MAX_CHECKS" envDefault:"100"`
	RateLimit       float64       `env:"GATEHOUSE_RATE_LIMIT" envDefault:"100"`
	RateBurst       int           `env:"GATEHOUSE_RATE_BURST" envDefault:"200"`
	ShutdownTimeout time.Duration `env:"GATEHOUSE_SHUTDOWN_TIMEOUT" envDefault:"15s"`
	UsageFlush      time.Duration `env:"GATEHOUSE_USAGE_FLUSH_INTERVAL" envDefault:"30s"`
	// CacheTTL bounds how long a server uses a cached account model without
	// reloading it (the fallback if a PostgreSQL notification is lost).
	CacheTTL time.Duration `env:"GATEHOUSE_CACHE_TTL" envDefault:"5s"`
	// NoListen turns off PostgreSQL LISTEN (tests of the fallback use it).
	NoListen  bool   `env:"GATEHOUSE_NO_LISTEN"`
	LogLevel  string `env:"GATEHOUSE_LOG_LEVEL" envDefault:"info"`
	LogFormat string `env:"GATEHOUSE_LOG_FORMAT" envDefault:"text"`

	// MigrationDatabaseURL is the database owner's URL: migrations run
	// through it, and DatabaseURL is a serving role granted only what the
	// server needs, which cannot rewrite the audit log (L4).
	MigrationDatabaseURL string `env:"GATEHOUSE_MIGRATION_DATABASE_URL"`
	// ServingRole is the role granted the serving privileges after migrating;
	// by default DatabaseURL's user, when it differs from the owner's.
	ServingRole string `env:"GATEHOUSE_SERVING_ROLE"`
	// AuditSigningKey is a PEM file holding the Ed25519 key that signs audit
	// checkpoints (gatehouse audit keygen); empty signs none.
	AuditSigningKey string `env:"GATEHOUSE_AUDIT_SIGNING_KEY"`
	// AuditPublicKeys are PEM files of the keys checkpoints may be signed
	// with, beyond the signing key's own (e.g. keys rotated out).
	AuditPublicKeys []string `env:"GATEHOUSE_AUDIT_PUBLIC_KEYS" envSeparator:","`
	// AuditCheckpointInterval is how often a server signs the chains' heads.
	AuditCheckpointInterval time.Duration `env:"GATEHOUSE_AUDIT_CHECKPOINT_INTERVAL" envDefault:"1m"`
}

// DatabaseTarget is what database.Open receives: DATABASE_URL when set,
// otherwise the SQLite file.
func (c Config) DatabaseTarget() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return c.SQLitePath
}
