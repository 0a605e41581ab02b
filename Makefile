# Weft: `make run` builds everything in release, migrates, loads the demo company on the
# first start (DEMO=0 skips it) and serves on 127.0.0.1:8080 with data in ./data;
# `make test` runs every test (SQLite always; PostgreSQL too when WEFT_TEST_DATABASE_URL is
# set).

CARGO ?= cargo
DATA ?= ./data
BIND ?= 127.0.0.1:8080
# 1: the first run loads the demo company (`weft demo`); 0: an empty workspace.
DEMO ?= 1
WEFT := ./target/release/weft

.PHONY: run build web test test-rust test-web bench-web lint clean-data

run: build
	@mkdir -p $(DATA)
	$(WEFT) --data $(DATA) migrate
	@# The first run (nobody in the workspace yet) loads the demo company and prints its
	@# sign-ins once (DEMO=0 skips it).
	@if [ "$(DEMO)" != "0" ] && [ "$$($(WEFT) --data $(DATA) user list | wc -l)" -le 1 ]; then \
		$(WEFT) --data $(DATA) demo; \
	fi
	@# Without the demo, the first run makes an administrator `admin` and prints its password once.
	@$(WEFT) --data $(DATA) user list | awk 'NR > 1 && $$5 ~ /(^|,)admin(,|$$)/ { found = 1 } END { exit !found }' \
		|| $(WEFT) --data $(DATA) user create --login admin --name Administrator --role admin
	@echo "Open http://$(BIND) and sign in with the login printed on the first run (Ctrl-C stops the server)"
	$(WEFT) --data $(DATA) serve --bind $(BIND)

# The web UI first: the binary serves web/dist (server.web_dir) at /.
build: web
	$(CARGO) build --release --locked -p weft

web:
	cd web && npm ci && npm run build

test: test-rust test-web
	@if [ -z "$$WEFT_TEST_DATABASE_URL" ]; then \
		echo ""; \
		echo "NOTE: the PostgreSQL variants were SKIPPED (WEFT_TEST_DATABASE_URL is unset)."; \
		echo "      Run: WEFT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make test"; \
	fi

# nextest runs each test in its own process (tests may signal themselves); plain
# `cargo test` is the fallback on machines without it.
test-rust:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --locked --no-fail-fast; \
	else \
		echo "cargo-nextest not found; using cargo test"; \
		$(CARGO) test --workspace --locked --no-fail-fast; \
	fi

# The web UI's tests: type-check and build (API types from web/openapi.json), unit tests
# (vitest), the first-route size budget, then the browser tests (playwright-core driving
# Debian's chromium, installed by ensure-chromium.sh) against a real `weft serve` built
# here. `CARGO_TARGET_DIR` is honoured; WEFT_BIN names another binary.
test-web:
	cd web && npm ci && npm run build && npm test && npm run size
	bash web/scripts/ensure-chromium.sh
	$(CARGO) build --locked -p weft
	cd web && npm run e2e

# The web UI's performance target (first render of a 50-row list) as a benchmark, in the
# same headless chromium against a release `weft serve` (figures in BENCHMARKS.md).
bench-web: build
	bash web/scripts/ensure-chromium.sh
	WEFT_BIN=./target/release/weft node bench/web/list-render.mjs --runs 30

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) fmt --all --check

clean-data:
	rm -rf $(DATA)

# The DMN TCK (compliance levels 2 and 3) through weft-decision's interface, with the
# per-level rates and the failing cases shown (see CONFORMANCE.md). Part of `make test` too.
.PHONY: tck
tck:
	$(CARGO) test -p weft-decision --locked --test tck -- --nocapture
