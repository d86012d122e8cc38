# Parley: `make run` serves a demo on 127.0.0.1:8000, `make test` runs the whole suite.
# Both create .venv and install the pinned dependencies (requirements.lock) on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export PARLEY_DEBUG ?= 1

.PHONY: run setup test bench lock clean worker help

help:
	@echo "make run    - install, migrate, load locale packs and demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test   - install and run the whole test suite"
	@echo "make bench  - run the benchmarks (figures go in docs/benchmarks.md)"
	@echo "make worker - a Celery worker with beat embedded (needs REDIS_URL; one per machine)"
	@echo "make lock   - re-pin requirements.lock from pyproject.toml"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	@# platform/ is the source root: a .pth file puts it on the venv's path (no build step).
	$(BIN)/python -c "import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()['purelib'], 'parley-src.pth').write_text(str(pathlib.Path('platform').resolve()) + '\\n')"
	@touch $(STAMP)

setup: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py locales_load
	$(BIN)/python manage.py schema_load
	$(BIN)/python manage.py culture_load --holidays   # registers, terms, topics (locales/culture/), holidays
	$(BIN)/python manage.py templates_load fixtures/templates-demo.yaml   # approved response templates to render
	$(BIN)/python manage.py nlu_import massive fixtures/massive-sample.jsonl   # a few rows a locale, so every page has data
	$(BIN)/python manage.py feedback_import fixtures/feedback-sample.jsonl && $(BIN)/python manage.py feedback_mine   # clustered problems, mined rephrases
	$(BIN)/python manage.py release_build demo --if-missing --notes "built by make run from the sample rows"
	$(BIN)/python manage.py demo_load --host $(HOST) --port $(PORT)
	$(BIN)/python manage.py collection_demo   # an active demo campaign for /collect/ (issue 7)

run: setup
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Beat is embedded (-B): the schedule sends the outbox, fails runs of lost workers, promotes,
# retries webhooks and cleans uploads. Run one such worker; more workers go without -B (compose
# runs beat as its own service).
worker: $(STAMP)
	$(BIN)/celery -A parley.config.celery worker -B --schedule var/celerybeat-schedule --loglevel=INFO

test: $(STAMP)
	PARLEY_TESTING=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	PARLEY_TESTING=1 $(BIN)/python bench/run.py $(BENCH_ARGS)

lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
		--output-file requirements.lock --no-header --quiet

clean:
	rm -rf $(VENV) var
