# The README's two commands live here: `make dataset` (the whole pipeline) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DB     ?= curator.db
TARGET_MB ?= 200
GEN_MB    ?= 205
SEED      ?= 1

.PHONY: setup dataset test check lint bench clean

$(BIN)/curator: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

setup: $(BIN)/curator

# Generate until each device's stored code reaches GEN_MB MiB, then export TARGET_MB per device.
# Every step resumes: run it again after an interruption and it picks up where it stopped.
dataset: setup
	$(BIN)/curator generate --device all --target-mb $(GEN_MB) --seed $(SEED) --db $(DB)
	$(BIN)/curator stats --db $(DB)

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check curator tests bench
	$(BIN)/ruff format --check curator tests bench

check: lint test

bench: setup
	$(BIN)/python bench/bench_generate.py

clean:
	rm -rf $(VENV) .pytest_cache
