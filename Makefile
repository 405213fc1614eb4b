# Gatehouse — common tasks. `make test` is the test command of the README.

PG_URL ?= postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable

.PHONY: run test generate migration bench

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

bench: ## the decision engine's benchmarks, then authorize over HTTP against a bare net/http handler
	go test -run '^$$' -bench . -benchmem ./graph/authz/
	go test -run '^$$' -bench AuthorizeHTTP -benchtime=1x -timeout 30m ./graph/bench/
