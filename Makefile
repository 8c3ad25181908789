# The README's two commands live here: `make dataset` (the whole pipeline) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DB     ?= curator.db
OUT    ?= exports
PARQUET_OUT ?= $(OUT)-parquet
REPORT ?= REPORT.md
TARGET_MB ?= 200
GEN_MB    ?= 480
SEED      ?= 1
# `make dataset` proves every kernel it exports (VERIFY=1): `export --plan` lists the kernels the
# release would take (plus PLAN_MARGIN spares), `verify --ids-from` compiles them for both devices
# and launches each on the CPU (pair and adjoint checks), and the release is exported
# --verified-only.  VERIFY=0 skips that (a release of unverified kernels, minutes faster).
VERIFY ?= 1
VERIFY_MODE ?= fast
# 0.03: of the 8,996 kernels planned at 0.08 from a fresh clone (generator 2.1.0) none failed
PLAN_MARGIN ?= 0.03
PLAN ?= $(OUT)-plan.txt
SPLITS    ?= train=0.9,validation=0.05,test=0.05
# Real kernels to decontaminate against (`curator ingest --package`); empty: no decontamination.
REFERENCE_PACKAGE ?= warp
# A release is immutable: exporting over a different one needs FORCE=--force.
FORCE ?=
RELEASE = --dedup --splits $(SPLITS) --paired $(if $(REFERENCE_PACKAGE),--decontaminate) \
	--target-mb $(TARGET_MB) --seed $(SEED) --db $(DB) $(FORCE)
VERIFIED = $(if $(filter 1,$(VERIFY)),--verified-only)

.PHONY: setup dataset benchmark test check lint bench clean

$(BIN)/curator: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

setup: $(BIN)/curator

# The whole pipeline. Every step resumes: after an interruption, run it again and it picks up
# where it stopped (generate and verify skip what is stored; ingest stores a kernel once; export
# and report rewrite atomically, and re-exporting the same release is allowed).
# GEN_MB > TARGET_MB / 0.9 leaves room for the validation and test splits, near-duplicates and
# per-category balance.  Generator 3's kernels are longer (a cuda record ~34 KiB), so a category
# needs about 275 distinct near-duplicate clusters in the cuda config; the category with the
# fewest is while_loop (341 of 800 kernels at 20,000).  At 420 MiB (18,752 kernels) the plan was
# short of cuda/train; 20,000 kernels (cuda 450 MiB) filled every config, hence 480.
# The release: cpu, cuda and paired configs with train/validation/test
# splits, in JSONL ($(OUT)) and Parquet ($(PARQUET_OUT)), each checked against its manifest.
dataset: setup
	$(BIN)/curator generate --device all --target-mb $(GEN_MB) --seed $(SEED) --db $(DB)
	$(if $(REFERENCE_PACKAGE),$(BIN)/curator ingest --package $(REFERENCE_PACKAGE) --db $(DB))
ifeq ($(VERIFY),1)
	$(BIN)/curator export $(RELEASE) --plan $(PLAN) --plan-margin $(PLAN_MARGIN)
	$(BIN)/curator verify --device all --mode $(VERIFY_MODE) --execute --ids-from $(PLAN) --seed $(SEED) \
	  --db $(DB) || echo "verify: some kernels failed and are left out (curator verify --failures --db $(DB))"
endif
	$(BIN)/curator export $(RELEASE) $(VERIFIED) --out $(OUT)
	$(BIN)/curator export $(RELEASE) $(VERIFIED) --format parquet --out $(PARQUET_OUT)
	$(BIN)/curator export --check $(OUT)
	$(BIN)/curator export --check $(PARQUET_OUT)
	$(BIN)/curator report --db $(DB) --exports $(OUT) --out $(REPORT)
	$(BIN)/curator stats --db $(DB)

# The release as a benchmark (after `make dataset`): `curator eval figures` measures the informative
# records and the reference, shuffled and retrieval baselines of the cpu test split (forward and
# backward; results kept in $(OUT)-eval, so an interrupted run resumes), then the same release is
# exported again with the figures in its manifest and card, checked, and REPORT.md rewritten.
BENCHMARK ?= $(OUT)-benchmark.json
benchmark: setup
	$(BIN)/curator eval figures --release $(OUT) --config cpu --split test --target forward --target backward \
	  --results $(OUT)-eval --out $(BENCHMARK)
	$(BIN)/curator export $(RELEASE) $(VERIFIED) --benchmark $(BENCHMARK) --out $(OUT)
	$(BIN)/curator export $(RELEASE) $(VERIFIED) --benchmark $(BENCHMARK) --format parquet --out $(PARQUET_OUT)
	$(BIN)/curator export --check $(OUT)
	$(BIN)/curator export --check $(PARQUET_OUT)
	$(BIN)/curator report --db $(DB) --exports $(OUT) --out $(REPORT)

test: setup
	$(BIN)/python -m pytest -q -n auto --dist loadfile

lint: setup
	$(BIN)/ruff check curator tests bench
	$(BIN)/ruff format --check curator tests bench
	$(BIN)/mypy curator

check: lint test

bench: setup
	$(BIN)/python bench/bench_generate.py
	$(BIN)/python bench/bench_dedup_export.py
	$(BIN)/python bench/bench_verify.py
	$(BIN)/python bench/bench_browse.py
	$(BIN)/python bench/bench_release.py
	$(BIN)/python bench/bench_scaling.py
	$(BIN)/python bench/bench_ray.py
	$(BIN)/python bench/bench_eval.py --release $(OUT) --db $(DB) --limit 40
	$(BIN)/python bench/bench_gpu.py

clean:
	rm -rf $(VENV) .pytest_cache
