# The README's two commands live here: `make dataset` (the whole pipeline) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DB     ?= curator.db
OUT    ?= exports
REPORT ?= REPORT.md
TARGET_MB ?= 200
GEN_MB    ?= 215
SEED      ?= 1
VERIFY_MODE ?= fast

.PHONY: setup dataset test check lint bench clean

$(BIN)/curator: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

setup: $(BIN)/curator

# The whole pipeline. Every step resumes: after an interruption, run it again and it picks up
# where it stopped (generate and verify skip what is stored; export and report rewrite atomically).
# GEN_MB > TARGET_MB leaves room for near-duplicates and per-category balance.  verify compiles every
# stored kernel for both devices and launches it on the CPU; export takes only what passed.
dataset: setup
	$(BIN)/curator generate --device all --target-mb $(GEN_MB) --seed $(SEED) --db $(DB)
	$(BIN)/curator verify --device all --all --mode $(VERIFY_MODE) --execute --seed $(SEED) --db $(DB) \
	  || echo "verify: some kernels failed; --verified-only leaves them out (curator verify --failures --db $(DB))"
	$(BIN)/curator export --dedup --verified-only --target-mb $(TARGET_MB) --seed $(SEED) --out $(OUT) --db $(DB)
	$(BIN)/curator report --db $(DB) --exports $(OUT) --out $(REPORT)
	$(BIN)/curator stats --db $(DB)

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check curator tests bench
	$(BIN)/ruff format --check curator tests bench

check: lint test

bench: setup
	$(BIN)/python bench/bench_generate.py
	$(BIN)/python bench/bench_dedup_export.py
	$(BIN)/python bench/bench_verify.py
	$(BIN)/python bench/bench_browse.py
	$(BIN)/python bench/bench_gpu.py

clean:
	rm -rf $(VENV) .pytest_cache
