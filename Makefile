# Gatehouse — common tasks. `make test` is the test command of the README.

PG_URL ?= postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: run test generate migration bench bench-short bench-build

run: ## run Gatehouse on the embedded SQLite database
	go run ./cmd/gatehouse serve

# The PostgreSQL suite runs when GATEHOUSE_TEST_POSTGRES_URL is set or a local
# server answers on 127.0.0.1:5432; otherwise it is skipped (and says so).
test: ## run every test, on SQLite and PostgreSQL
	@url="$${GATEHOUSE_TEST_POSTGRES_URL:-}"; \
	if [ -z "$$url" ] && command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then url='$(PG_URL)'; fi; \
	if [ -n "$$url" ]; then echo "PostgreSQL suite: on"; else echo "PostgreSQL suite: off (no server on 127.0.0.1:5432)"; fi; \
	GATEHOUSE_TEST_POSTGRES_URL="$$url" go test -count=1 -timeout 30m ./...

generate: ## regenerate ent, the GraphQL SDL and gqlgen's executor
	go generate ./...

migration: ## write a new versioned migration: make migration name=add_x
	go run ./ent/migrate/gen $(name)

# Benchmarks (see the README's "Benchmarks"): the decision engine's
# micro-benchmarks, then cmd/gatehouse-bench, which seeds a dataset, starts the
# gatehouse binary built here as its own process and drives it from another.
# BENCH_SCALE: the larger shapes whose authorize, start and memory figures are
# measured too (e.g. BENCH_SCALE="1000 10000"); BENCH_FLAGS: more flags for
# every run (e.g. --rounds 5, --server-env GATEHOUSE_MODEL_CACHE_SIZE=20000).
BENCH_DIR   ?= .bench
BENCH_SCALE ?= 1000
BENCH_FLAGS ?=
BENCH_RUN    = $(BENCH_DIR)/gatehouse-bench run --gatehouse $(BENCH_DIR)/gatehouse $(BENCH_FLAGS)
# The PostgreSQL server of the PostgreSQL runs, as `make test` finds it.
PG_FIND      = url="$${GATEHOUSE_TEST_POSTGRES_URL:-}"; \
	if [ -z "$$url" ] && command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then url='$(PG_URL)'; fi

bench-build:
	go build -ldflags "-X main.version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o $(BENCH_DIR)/gatehouse ./cmd/gatehouse
	go build -o $(BENCH_DIR)/gatehouse-bench ./cmd/gatehouse-bench

bench: bench-build ## measure Gatehouse against a bare handler, on SQLite and (when it answers) PostgreSQL
	go test -run '^$$' -bench . -benchmem ./graph/authz/
	$(BENCH_RUN) --db sqlite --accounts 100
	for n in $(BENCH_SCALE); do $(BENCH_RUN) --db sqlite --accounts $$n --workloads scale || exit 1; done
	@$(PG_FIND); if [ -n "$$url" ]; then \
		$(BENCH_RUN) --db postgres --postgres "$$url" --accounts 100 && \
		for n in $(BENCH_SCALE); do $(BENCH_RUN) --db postgres --postgres "$$url" --accounts $$n --workloads scale || exit 1; done; \
	else echo "PostgreSQL benchmark: skipped (no server on 127.0.0.1:5432)"; fi

bench-short: bench-build ## one short round of every workload on a tiny dataset: checks that the benchmark runs (CI)
	$(BENCH_RUN) --short --db sqlite
	@$(PG_FIND); if [ -n "$$url" ]; then $(BENCH_RUN) --short --db postgres --postgres "$$url"; \
	else echo "PostgreSQL benchmark: skipped (no server on 127.0.0.1:5432)"; fi
