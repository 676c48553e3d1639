# mentora-infra entry points. The two README commands are `make up` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
ENV := source scripts/env.sh &&
STACK ?= local
PYTEST := .venv/bin/python -m pytest

.PHONY: bootstrap up smoke preview refresh destroy test unit integration lint bench

bootstrap:  ## install .venv, redis-server, the Pulumi CLI; create the local stack
	@scripts/bootstrap.sh

up: bootstrap  ## main job: bring the local stack up (healing dead or hung servers), then the smoke gate
	@$(ENV) .venv/bin/mentora-infra up local

smoke:  ## run the smoke suite against STACK (default local)
	@$(ENV) $(PYTEST) smoke --stack $(STACK) -p no:cacheprovider

preview:  ## show what `up` would change on STACK
	@$(ENV) pulumi preview --stack $(STACK) --diff

destroy:  ## stop the local servers and delete their data
	@$(ENV) .venv/bin/mentora-infra destroy local && .venv/bin/python -m stacks.orphans local

test: bootstrap  ## every test: unit (mocks, fakes) then integration (real local stack)
	@$(ENV) $(PYTEST) tests -p no:cacheprovider --durations=12 -n 4 --dist loadfile

unit:
	@$(ENV) $(PYTEST) tests/unit -p no:cacheprovider

integration:
	@$(ENV) $(PYTEST) tests/integration -p no:cacheprovider

bench: bootstrap  ## benchmarks against the issue's targets: table + reports/bench.json (docs/benchmarks.md)
	@$(ENV) .venv/bin/python -m bench --json reports/bench.json $(BENCH_ARGS)

lint:  ## ruff (also run by the tests) and mypy on the packages
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .
	@.venv/bin/mypy stacks components smoke gate rotation recovery review drift
