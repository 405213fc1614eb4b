// Package bench measures Gatehouse's decision API end to end: warm
// `authorize` calls over real HTTP on loopback, against a bare net/http
// handler answering constant JSON in the same run (issue "API keys, scopes and
// the decision API"). It is a benchmark that reports numbers, never a timed
// assertion; it fails only when a request fails.
//
// Run it once (the whole measurement is one iteration):
//
//	go test -run '^$' -bench AuthorizeHTTP -benchtime=1x ./graph/bench/
//
// It seeds 100 accounts × 20 roles × 50 members × 100 catalog permissions
// (each master list = the catalog + the built-ins) into a temporary SQLite
// file, or into a fresh PostgreSQL database created from
// GATEHOUSE_TEST_POSTGRES_URL (and dropped afterwards) when that is set. Each
// account gets one API key holding iam.authorize, minted for its owner through
// GraphQL with an operator key. Then, for 1, 16 and 64 keep-alive clients, it
// runs Gatehouse and the bare handler for GATEHOUSE_BENCH_SECONDS each
// (default 3, after a short unrecorded warm-up per level), records every
// latency and prints req/s, p50, p99 and Gatehouse's throughput as a share of
// the bare handler's.
//
// The server is configured like `gatehouse serve` with its defaults (the
// GATEHOUSE_* variables of the README apply, e.g. GATEHOUSE_CHANGE_POLL_INTERVAL),
// except that the per-principal rate limit is off and JWTs are not configured.
//
// Environment:
//
//	GATEHOUSE_BENCH_SECONDS     seconds per load level and server (default 3)
//	GATEHOUSE_BENCH_CPUPROFILE  write a CPU profile of Gatehouse's 16-client run here
//	GATEHOUSE_BENCH_CPUPROFILE_CLIENTS  profile the run at this level instead (1, 16 or 64)
//	GATEHOUSE_TEST_POSTGRES_URL run on PostgreSQL (a fresh database is created and dropped)
//
// Client and server share the machine's CPUs (the profile shows both); the
// bare handler pays the same client and net/http costs, which is what makes
// the ratio meaningful. Everything listens on and talks to 127.0.0.1 only, and
// stops by itself.
package bench
