# jobboard: the two commands a newcomer needs are `make dev` and `make test`.
# Everything else here is what those two are made of.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

FORGE := $(CURDIR)/node_modules/@foundry-rs/forge-linux-amd64/bin/forge
# The snapshot covers the deterministic unit and gas tests only: fuzz and invariant gas
# figures depend on the inputs drawn, which change with the number of runs.
SNAPSHOT_FLAGS := --match-path 'test/JobBoard{.t,.gas.t}.sol'

.PHONY: dev dev-reset test tools browser pgbouncer contracts-test web-test rust-test artifact snapshot web fmt

# Extra flags for `jobboard dev`, e.g. `make dev DEV_ARGS="--listen 127.0.0.1:8001"`.
DEV_ARGS ?=

## Run the main job: embedded PostgreSQL, anvil, the contract, a demo, the indexer and the API.
## Ctrl-C stops everything; the next run resumes with the same data.
## Not --quiet: the first build takes minutes, and cargo's progress shows it is not a hang.
dev: tools
	cargo run --bin jobboard -- dev $(DEV_ARGS)

## The same, from a fresh chain and database (deletes .jobboard/dev).
dev-reset: tools
	cargo run --bin jobboard -- dev --reset $(DEV_ARGS)

## Run every test: contracts (format, build, tests, gas snapshot, artifact), the page's build and
## logic, and Rust (which includes the page's tests in a real browser).
test: tools browser pgbouncer contracts-test web-test rust-test

## Install the pinned npm toolchain (forge, anvil, cast, solc) if it is missing or stale.
tools: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## Debian's Chromium for the page's browser tests (installed with apt-get when run as root).
browser:
	scripts/chromium

## Debian's pgbouncer for the test of `serve` behind a connection pooler (apt-get as root).
pgbouncer:
	scripts/pgbouncer

contracts-test:
	cd contracts && $(FORGE) fmt --check
	cd contracts && $(FORGE) build --deny warnings
	cd contracts && FOUNDRY_PROFILE=ci $(FORGE) test
	cd contracts && $(FORGE) snapshot --check $(SNAPSHOT_FLAGS)
	node scripts/artifact.mjs check

web-test:
	node scripts/web.mjs check
	node scripts/web.mjs test

rust-test:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo test

## Rebuild the committed page (web/dist) after changing web/. While working on it,
## `make dev DEV_ARGS="--web-dir web/dist"` serves it from disk: rebuild and reload.
web: tools
	node scripts/web.mjs build

## Regenerate the committed ABI/bytecode artifact after changing the contract.
artifact:
	cd contracts && $(FORGE) build
	node scripts/artifact.mjs export

## Regenerate the committed gas snapshot after changing the contract or its tests.
snapshot:
	cd contracts && $(FORGE) snapshot $(SNAPSHOT_FLAGS)

## Format Solidity and Rust sources.
fmt:
	cd contracts && $(FORGE) fmt
	cargo fmt
