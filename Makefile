# The two commands: `make run` and `make test`. Everything else is a step they call.
VENV    := .venv
PY      := $(VENV)/bin/python
SAFEMIG := $(VENV)/bin/safemig
STAMP   := $(VENV)/.installed

.PHONY: run test setup e2e-setup catalogs compile-catalogs train lint validate content-check nlu-eval nlu-report nlu-cv bench bench-anchor clean

run: setup compile-catalogs train
	$(SAFEMIG) run --no-train

test: setup e2e-setup compile-catalogs train lint content-check validate
	$(PY) -m pytest

setup: $(STAMP)

# Redis and the telemelya Bot API emulator in .e2e-venv, for tests/e2e (idempotent, fast when done).
e2e-setup:
	bash scripts/e2e_setup.sh

# Creates the virtual environment with Python 3.10 (found by scripts/find_python.sh).
$(STAMP): pyproject.toml constraints.txt scripts/find_python.sh
	@PY310="$$(scripts/find_python.sh)" || exit 1; \
	  echo "Using $$PY310"; \
	  [ -x $(PY) ] || "$$PY310" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<26"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

catalogs: setup
	$(PY) -m safemig.catalogs

compile-catalogs: setup
	$(PY) -m safemig.catalogs compile

train: setup
	$(SAFEMIG) train

lint: setup
	$(VENV)/bin/ruff check safemig bot actions tests bench

content-check: setup
	$(SAFEMIG) content check

validate: setup
	$(PY) -m safemig.validate_data

nlu-eval: setup train
	$(SAFEMIG) nlu-eval tests/nlu_heldout/*.yml
	$(SAFEMIG) nlu-eval tests/nlu_probe/*.yml
	$(SAFEMIG) nlu-eval tests/nlu_probe2/*.yml
	$(SAFEMIG) nlu-eval tests/nlu_probe3/*.yml
	$(SAFEMIG) nlu-eval tests/nlu_probe4/*.yml

nlu-report: setup compile-catalogs
	$(PY) -m bench.nlu_report

nlu-cv: setup
	$(VENV)/bin/rasa test nlu --cross-validation --folds 3 --nlu nlu_data --config config.yml --out var/cv

# Our model (about 1.5 minutes) and the stock-Rasa anchor's (bench/turns.py, about 1; kept in
# models/bench by input hash) train side by side: each mostly uses one core.
bench: setup compile-catalogs
	$(MAKE) --no-print-directory -j2 train bench-anchor e2e-setup
	$(PY) -m bench

bench-anchor: setup
	$(PY) -m bench.turns --train-anchor

clean:
	rm -rf $(VENV) models var
