# One entry point for people, the README and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ENV := source scripts/env.sh &&

.PHONY: help run run-prod test lint eval crossval fuzz bench train agent backend-demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(STAMP): requirements.lock scripts/bootstrap.sh
	@scripts/bootstrap.sh

run: $(STAMP) ## install what is missing, train if config/data changed, start all services on localhost
	@$(ENV) $(PY) scripts/train.py >/dev/null
	@$(ENV) scripts/run.sh

run-prod: $(STAMP) ## production profile on localhost: PostgreSQL, Redis, N Rasa processes behind nginx (RASA_PROCESSES, PROD_PORT)
	@scripts/system-deps.sh
	@$(ENV) $(PY) scripts/train.py >/dev/null
	@export LOG_FORMAT=$${LOG_FORMAT:-json}; $(ENV) $(PY) -m deploy.local

test: $(STAMP) ## lint, then the whole test suite (installs Chromium from Debian if missing)
	@$(PY) -m ruff check --quiet . && echo "ruff: clean"
	@scripts/system-deps.sh
	@$(ENV) $(PY) scripts/train.py >/dev/null
	@$(ENV) $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff: undefined and unused names, bugbear (also the first step of make test)
	@$(PY) -m ruff check .

eval: $(STAMP) ## NLU figures on every held-out set: accuracy, macro-F1, escalate recall/precision, fallback, confusions
	@$(ENV) $(PY) scripts/train.py >/dev/null
	@$(ENV) $(PY) -m nlu.evaluate --calibrate $(EVAL_ARGS)

crossval: $(STAMP) ## 5-fold cross-validation of the NLU pipeline, grouped by generator template (about 5 minutes)
	@$(ENV) $(PY) -m nlu.crossval $(CROSSVAL_ARGS)

fuzz: $(STAMP) ## drive thousands of random conversations through the real servers and check the dialogue invariants (FUZZ_CONVERSATIONS=5000)
	@scripts/system-deps.sh
	@$(ENV) $(PY) scripts/train.py >/dev/null
	@$(ENV) FUZZ_FRESH=1 FUZZ_CONVERSATIONS=$${FUZZ_CONVERSATIONS:-5000} $(PY) -m pytest tests/e2e/test_dialogue_fuzz.py -q -s -p no:cacheprovider

bench: $(STAMP) ## benchmark against stock Rasa 3.6.21; writes bench/results/<date>.{json,md,png} (BENCH_ARGS=--quick)
	@scripts/system-deps.sh
	@$(ENV) $(PY) scripts/train.py >/dev/null
	@$(ENV) $(PY) -m bench $(BENCH_ARGS)

train: $(STAMP) ## train the model now if config or data changed
	@$(ENV) $(PY) scripts/train.py

agent: $(STAMP) ## add a console account: make agent USERNAME=wang NAME=小王 [ROLE=supervisor] (asks for the password)
	@test -n "$(USERNAME)" || { echo "usage: make agent USERNAME=wang NAME=小王 [ROLE=agent|supervisor]"; exit 2; }
	@$(ENV) $(PY) -m bot.cli add-agent "$(USERNAME)" --name "$(NAME)" --role "$(or $(ROLE),agent)"

backend-demo: $(STAMP) ## a reference receiver for the ticket-event push on :8099 (BACKEND_SECRET, e.g. in .env)
	@$(ENV) $(PY) scripts/backend_demo.py --port $(or $(PORT),8099) --secret "$${BACKEND_SECRET:?set BACKEND_SECRET (README: The backend ticketing system)}"

clean: ## remove trained models and local databases (keeps .venv)
	rm -rf models data
