# authbench — every install step lives here, so a fresh machine needs only
# `make demo` or `make test`.

SHELL := /bin/bash
GO ?= go
BIN := bin/authbench
# The demo's stack. As root, PostgreSQL runs as user postgres, who must
# enter the state directory: a checkout it cannot enter (under /root, or a
# private temporary directory) keeps its stack in /tmp instead.
STACK_DIR ?= $(shell if [ "$$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$(CURDIR)" 2>/dev/null; \
	then echo /tmp/authbench-stack-$$(printf %s "$(CURDIR)" | cksum | cut -d' ' -f1); else echo .stack; fi)
# Debian packages the local stack runs (checked one by one; only missing ones are installed).
DEB_PACKAGES := postgresql haproxy krb5-kdc krb5-admin-server krb5-user prometheus chromium xz-utils gcc
# SPIRE's server and agent (tools/spire/go.mod pins the version; gcc builds its sqlite):
# built once into SPIRE_DIR, outside the clone; spire-server/spire-agent >= 1.9 on PATH are used instead.
export SPIRE_DIR ?= $(HOME)/.cache/authbench/spire-v1.13.3
TEST_TIMEOUT ?= 25m
FUZZTIME ?= 30s
DURATION ?= 10m
BENCH_FLAGS ?=
STORM_FLAGS ?=
# The shared OpenBao binary the tests run against as a real Vault-API
# server: CI clones the repository beside shared/ (see .ci/run).
OPENBAO_DIR ?= $(abspath $(CURDIR)/../shared/tools/openbao)
TOOLS := .tools
# Go modules of their own (their heavier dependencies stay out of go.mod); `make test` vets and tests each.
SUB_MODULES := deploy results/report/browsertest
# package:target of every fuzz target; go test -fuzz takes one target per run.
FUZZ_TARGETS := ./results:FuzzReadHlog ./results:FuzzReadTicks ./results:FuzzReadSummary ./workloads/orders:FuzzParseMix

.PHONY: all deps debs spire build test unit demo demo-down vet clean bench fuzz soak storm openbao

all: build

## deps: install the Debian packages the stack needs (only those missing) and SPIRE
deps: debs spire

debs:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "deps: all of $(DEB_PACKAGES) present"; fi

## spire: SPIRE's server and agent where the stack finds them (see stack/spiffe/spirebin);
## a no-op when they are there, a link-only build when Go's build cache is warm
spire: debs
	@GO=$(GO) $(GO) run ./stack/spiffe/spirebin/spirebuild -module tools/spire

## build: the CLI into bin/authbench
build:
	$(GO) build -o $(BIN) ./cmd/authbench

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

## test: every test, the integration tests against the real stack included
test: deps vet
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	@for m in $(SUB_MODULES); do echo "== module $$m"; (cd $$m && $(GO) vet ./... && $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...) || exit 1; done

## openbao: unpack OpenBao from $(OPENBAO_DIR) into .tools/bao, checksum verified;
## the tests run against it with PATH=$$PWD/.tools:$$PATH (AUTHBENCH_REQUIRE_REAL_VAULT=1 makes it required)
openbao: $(TOOLS)/bao

$(TOOLS)/bao: $(OPENBAO_DIR)/bao.xz $(OPENBAO_DIR)/bao.sha256
	@mkdir -p $(TOOLS)
	@xz -dc $(OPENBAO_DIR)/bao.xz > $@.tmp
	@echo "$$(cut -d' ' -f1 $(OPENBAO_DIR)/bao.sha256)  $@.tmp" | sha256sum -c --quiet - || \
		{ rm -f $@.tmp; echo "openbao: $(OPENBAO_DIR)/bao.xz does not unpack to the binary bao.sha256 names: fetch the shared tool again"; exit 1; }
	@chmod +x $@.tmp && mv $@.tmp $@
	@$@ version

$(OPENBAO_DIR)/bao.xz $(OPENBAO_DIR)/bao.sha256:
	@echo "openbao: no $@: put the shared tools beside the repository (../shared/tools/openbao) or pass OPENBAO_DIR=…"; exit 1

## unit: only the tests that need no servers
unit:
	$(GO) test -short -count=1 ./...

## demo: start the stack, run the bank with cert auth, check it, compare every auth mode, write the HTML report
demo: deps build
	@$(BIN) stack up --dir $(STACK_DIR) --with-prometheus
	@set -e; eval "$$($(BIN) stack env --dir $(STACK_DIR))"; \
	ts=$$(date +%Y%m%d-%H%M%S); run=runs/demo-$$ts-bank-cert; matrix=runs/demo-$$ts-matrix; \
	$(BIN) init bank --accounts 10000; \
	$(BIN) init orders; \
	$(BIN) run bank --auth cert --concurrency 16 --ramp 2s --duration 20s --out $$run; \
	$(BIN) check bank --run $$run; \
	echo; echo "== every auth mode on both workloads, with a forced rotation every 4s"; \
	$(BIN) matrix --init=false --workloads bank,orders --auth password,cert,gssapi,spiffe,vault \
		--duration 8s --ramp 1s --rotate-every 4s --out $$matrix; \
	$(BIN) report $$matrix $$run --out $$matrix/report.html; \
	echo; echo "run directory:  $$run (summary.json, ticks.ndjson, transfer.hlog)"; \
	echo "comparison:     $$matrix/matrix.md"; \
	echo "HTML report:    $$matrix/report.html"; \
	echo "prometheus:     $$AUTHBENCH_PROMETHEUS_URL (try: max by (auth_mode) (max_over_time(authbench_ops_total[1h])))"; \
	echo "the stack keeps running; stop it with: $(BIN) stack down --dir $(STACK_DIR)"

## bench: authbench against pgbench on its own stack (throughput, handshake, open loop); see BENCHMARKS.md
bench: deps build
	$(GO) run ./bench/cmd/benchcmp --authbench $(BIN) $(BENCH_FLAGS)
	$(GO) test -run '^$$' -bench . -benchmem ./results ./driver

## fuzz: run every fuzz target for $(FUZZTIME) (seed corpora in testdata/fuzz/)
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz: $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

## soak: the matrix over every auth mode, a rotation every 30 s, for DURATION; driver memory must stay within 20 %
soak: deps build
	$(GO) run ./soak -bin $(BIN) -duration $(DURATION)

## storm: a fleet of 100 instances × 20 connections under steady load, one synchronised and one spread forced
## rotation per auth mode (cert, gssapi, vault) on a stack of its own; writes docs/rotation-storms.md and its charts
storm: deps build
	$(GO) run ./storm -bin $(BIN) $(STORM_FLAGS)

demo-down:
	$(BIN) stack down --dir $(STACK_DIR)

clean:
	rm -rf bin $(TOOLS)
