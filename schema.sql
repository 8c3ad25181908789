-- curator store: the one canonical DDL.  Applied by curator/store/base.py (a copy ships inside the
-- package as curator/schema.sql).  PRAGMA user_version is the schema version; application_id
-- marks the file as a curator store (0x43555241 = "CURA").
PRAGMA application_id = 1129665089;
PRAGMA user_version = 7;

-- One row per distinct Python kernel source (id = content hash of the source).
CREATE TABLE IF NOT EXISTS kernels (
    id                TEXT PRIMARY KEY,          -- sha256(source)[:20]
    name              TEXT NOT NULL,             -- the @wp.kernel function name
    category          TEXT NOT NULL,
    source            TEXT NOT NULL,             -- the Python module source
    origin            TEXT NOT NULL DEFAULT 'synthetic' CHECK (origin IN ('synthetic', 'real')),
    provenance        TEXT,                      -- JSON: file/line/package/license for real kernels
    seed              INTEGER,                   -- per-kernel generator seed
    run_seed          INTEGER,                   -- the --seed of the run that first made it
    run_index         INTEGER,                   -- its index in that run's sequence
    generator_version TEXT,
    launch_dim        INTEGER NOT NULL DEFAULT 1,
    kernel_args       TEXT,                      -- JSON [[name, annotation], ...]
    skeleton_hash     TEXT NOT NULL,             -- hash of the normalised source (curator.neardup.tokens.skeleton_hash)
    minhash           BLOB,                      -- LeanMinHash.serialize() of the token shingles
    created_at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kernels_category ON kernels (category);
CREATE INDEX IF NOT EXISTS kernels_skeleton ON kernels (skeleton_hash);

-- Generated code of a kernel for one device, kept piece by piece (Warp's <L n> line
-- comments normalised).  A kernel and its artifacts are written in one transaction.
CREATE TABLE IF NOT EXISTS artifacts (
    kernel_id    TEXT NOT NULL REFERENCES kernels (id) ON DELETE CASCADE,
    device       TEXT NOT NULL CHECK (device IN ('cpu', 'cuda')),
    structs      TEXT NOT NULL,                  -- @wp.struct code the kernel depends on
    functions    TEXT NOT NULL,                  -- @wp.func code (forward and adjoint)
    args         TEXT NOT NULL,                  -- the kernel's args struct (CPU only)
    forward      TEXT NOT NULL,
    backward     TEXT NOT NULL,                  -- the adjoint kernel
    entry        TEXT NOT NULL,                  -- entry points (CPU only; CUDA's are __global__)
    bytes        INTEGER NOT NULL,               -- UTF-8 size of all pieces together
    warp_version TEXT NOT NULL,
    codegen_ms   REAL NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (kernel_id, device)
);
CREATE INDEX IF NOT EXISTS artifacts_device ON artifacts (device);

-- Kernels that failed to generate code (never stored in kernels).
CREATE TABLE IF NOT EXISTS failures (
    id         INTEGER PRIMARY KEY,
    kernel_id  TEXT NOT NULL,                    -- content hash of the failing source
    category   TEXT,
    seed       INTEGER,
    stage      TEXT NOT NULL,                    -- import | build | codegen | generate
    exc_type   TEXT NOT NULL,
    message    TEXT NOT NULL,
    source     TEXT,
    run_id     INTEGER REFERENCES runs (id),
    created_at TEXT NOT NULL,
    UNIQUE (kernel_id, stage)
);

CREATE TABLE IF NOT EXISTS runs (
    id         INTEGER PRIMARY KEY,
    command    TEXT NOT NULL,
    arguments  TEXT NOT NULL,                    -- JSON
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    status     TEXT NOT NULL DEFAULT 'running',  -- running | done | interrupted | failed | killed
    counts     TEXT,                             -- JSON
    pid        INTEGER,                          -- the process that ran it (dead + running = killed)
    host       TEXT
);

-- Human review: the current label of a kernel, plus every change in review_events.
CREATE TABLE IF NOT EXISTS reviews (
    kernel_id  TEXT PRIMARY KEY REFERENCES kernels (id) ON DELETE CASCADE,
    status     TEXT CHECK (status IN ('accepted', 'rejected', 'flagged')),
    note       TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS review_events (
    id        INTEGER PRIMARY KEY,
    kernel_id TEXT NOT NULL,
    status    TEXT,
    note      TEXT,
    at        TEXT NOT NULL
);

-- Near-duplicate clusters (curator dedup): every kernel's cluster representative.
CREATE TABLE IF NOT EXISTS dedup_clusters (
    kernel_id      TEXT PRIMARY KEY REFERENCES kernels (id) ON DELETE CASCADE,
    representative TEXT NOT NULL,
    similarity     REAL NOT NULL                 -- estimated Jaccard to the representative
);
CREATE INDEX IF NOT EXISTS dedup_clusters_rep ON dedup_clusters (representative);
CREATE TABLE IF NOT EXISTS dedup_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    threshold   REAL NOT NULL,
    num_perm    INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,                   -- what the store held when clusters were made
    kernels     INTEGER NOT NULL,
    clusters    INTEGER NOT NULL,
    computed_at TEXT NOT NULL
);

-- Compilation results (curator verify), per compiler and options.
CREATE TABLE IF NOT EXISTS verifications (
    kernel_id   TEXT NOT NULL REFERENCES kernels (id) ON DELETE CASCADE,
    device      TEXT NOT NULL CHECK (device IN ('cpu', 'cuda')),
    compiler    TEXT NOT NULL,                   -- e.g. "clang (warp 1.19.0)", "nvrtc 13.0 sm_86"
    options     TEXT NOT NULL,
    ok          INTEGER NOT NULL,
    diagnostics TEXT,
    ms          REAL,
    verified_at TEXT NOT NULL,
    mode        TEXT,                            -- compile mode: full | fast (docs/verification.md)
    PRIMARY KEY (kernel_id, device, compiler, options)
);

-- The visible Warp builtin signatures (curator.warp.surface text form) that Warp resolved while
-- building a kernel, recorded at generate/ingest time (curator stats --coverage).
CREATE TABLE IF NOT EXISTS kernel_builtins (
    kernel_id    TEXT NOT NULL REFERENCES kernels (id) ON DELETE CASCADE,
    warp_version TEXT NOT NULL,
    signatures   TEXT NOT NULL,                  -- JSON list, sorted
    PRIMARY KEY (kernel_id, warp_version)
);

-- What curator.measure.measures reads from each kernel's source (builtin names, shape figures), kept so
-- `curator report`, `export` and `stats --coverage/--profile` parse a kernel once, not every run.
-- Filled lazily by those commands; a row of another MEASURES_VERSION counts as missing.
CREATE TABLE IF NOT EXISTS kernel_measures (
    kernel_id TEXT PRIMARY KEY REFERENCES kernels (id) ON DELETE CASCADE,
    version   INTEGER NOT NULL,                  -- curator.measure.measures.MEASURES_VERSION that computed the row
    names     TEXT NOT NULL,                     -- JSON list, sorted: curator.measure.coverage.names_in_source
    figures   TEXT                               -- JSON object: curator.measure.profile.KernelFigures; NULL: no kernel
);
CREATE TRIGGER IF NOT EXISTS kernel_measures_au AFTER UPDATE OF name, source ON kernels BEGIN
    DELETE FROM kernel_measures WHERE kernel_id = old.id;
END;

-- MinHash values of each @wp.kernel definition in a kernel's source (decontamination compares
-- them besides the whole-source signature in kernels.minhash), kept so an export reads a kernel
-- once, not every run.  Filled lazily by `curator export --decontaminate`; a row of other
-- parameters counts as missing.
CREATE TABLE IF NOT EXISTS kernel_def_minhash (
    kernel_id  TEXT PRIMARY KEY REFERENCES kernels (id) ON DELETE CASCADE,
    params     TEXT NOT NULL,                    -- curator.export.decontaminate.DEF_PARAMS that computed the row
    hashvalues BLOB NOT NULL                     -- definitions x NUM_PERM uint32 (little-endian); empty: none
);
CREATE TRIGGER IF NOT EXISTS kernel_def_minhash_au AFTER UPDATE OF source ON kernels BEGIN
    DELETE FROM kernel_def_minhash WHERE kernel_id = old.id;
END;

-- Kernels launched on the CPU (curator verify --execute): outputs, pair and adjoint checks.
CREATE TABLE IF NOT EXISTS executions (
    kernel_id   TEXT NOT NULL REFERENCES kernels (id) ON DELETE CASCADE,
    device      TEXT NOT NULL CHECK (device IN ('cpu', 'cuda')),
    seed        INTEGER NOT NULL,
    warp        TEXT NOT NULL,                   -- Warp version (and options) it ran under
    status      TEXT NOT NULL,                   -- ran | failed | crashed | timeout | not-runnable | refused
    message     TEXT,                            -- why it failed / was not run
    checksum    TEXT,                            -- blake2b of the output arrays' bytes
    repeatable  INTEGER,                         -- the same seed gave the same checksum again
    nonfinite   INTEGER,                         -- outputs hold NaN or Inf
    pair_ok     INTEGER,                         -- stored code equals the .cpp Warp compiled
    grad        TEXT,                            -- pass | fail | not-differentiable
    grad_error  REAL,                            -- worst relative error tape vs finite differences
    grad_note   TEXT,
    ms          REAL,
    executed_at TEXT NOT NULL,
    PRIMARY KEY (kernel_id, device, seed, warp)
);

-- Full-text search over kernel names and Python source (the TUI's `/`).
CREATE VIRTUAL TABLE IF NOT EXISTS kernels_fts USING fts5 (
    name, source, content = 'kernels', content_rowid = 'rowid'
);
CREATE TRIGGER IF NOT EXISTS kernels_fts_ai AFTER INSERT ON kernels BEGIN
    INSERT INTO kernels_fts (rowid, name, source) VALUES (new.rowid, new.name, new.source);
END;
CREATE TRIGGER IF NOT EXISTS kernels_fts_ad AFTER DELETE ON kernels BEGIN
    INSERT INTO kernels_fts (kernels_fts, rowid, name, source) VALUES ('delete', old.rowid, old.name, old.source);
END;
CREATE TRIGGER IF NOT EXISTS kernels_fts_au AFTER UPDATE OF name, source ON kernels BEGIN
    INSERT INTO kernels_fts (kernels_fts, rowid, name, source) VALUES ('delete', old.rowid, old.name, old.source);
    INSERT INTO kernels_fts (rowid, name, source) VALUES (new.rowid, new.name, new.source);
END;
