-- Seam's engine tables, SQLite dialect. Times are Unix seconds; JSON is TEXT.

CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    event_type   TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending', -- pending | routed | unmatched
    routed_at    INTEGER,
    UNIQUE (source, event_id)
);
CREATE INDEX events_pending ON events (status, seq);

CREATE TABLE dead_letters (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    body         TEXT    NOT NULL
);

CREATE TABLE runs (
    id           TEXT    PRIMARY KEY,
    workflow     TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    key          TEXT,
    status       TEXT    NOT NULL, -- not_started | running | succeeded | failed | cancelled
    state        TEXT    NOT NULL,
    wake_at      INTEGER,
    fence        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX runs_live_key ON runs (workflow, key) WHERE status IN ('not_started', 'running');
CREATE INDEX runs_wake ON runs (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX runs_status ON runs (status, updated_at);

CREATE TABLE early_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow     TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    event        TEXT    NOT NULL,
    received_at  INTEGER NOT NULL
);
CREATE INDEX early_events_key ON early_events (workflow, key);

CREATE TABLE calls (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          TEXT    NOT NULL,
    step            TEXT    NOT NULL,
    attempt         INTEGER NOT NULL,
    idempotency_key TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    args            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending', -- pending | done | skipped
    fence           INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     INTEGER,
    tries           INTEGER NOT NULL DEFAULT 0,
    outcome         TEXT,
    created_at      INTEGER NOT NULL,
    done_at         INTEGER
);
CREATE INDEX calls_pending ON calls (status, lease_until);
CREATE UNIQUE INDEX calls_attempt ON calls (run_id, step, attempt);
CREATE INDEX calls_key ON calls (idempotency_key);

CREATE TABLE inbox (
    id           TEXT    PRIMARY KEY,
    run_id       TEXT    NOT NULL,
    workflow     TEXT    NOT NULL,
    step         TEXT    NOT NULL,
    team         TEXT    NOT NULL,
    assignee     TEXT    NOT NULL,
    zone         TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    context      TEXT    NOT NULL,
    due_at       INTEGER NOT NULL,
    status       TEXT    NOT NULL, -- open | resolved | retried | dismissed | closed
    decided_by   TEXT,
    decided_at   INTEGER,
    note         TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX inbox_status ON inbox (status, due_at);

CREATE TABLE audit (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    run_id       TEXT,
    event_id     TEXT,
    workflow     TEXT,
    step         TEXT,
    attempt      INTEGER,
    actor        TEXT,
    detail       TEXT    NOT NULL,
    data         TEXT
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_run ON audit (run_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE ledger (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT    NOT NULL UNIQUE,
    ledger          TEXT    NOT NULL,
    run_id          TEXT    NOT NULL,
    workflow        TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    fields          TEXT    NOT NULL,
    shipped         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ledger_unshipped ON ledger (shipped, seq);

-- Every workflow version ever loaded, so a run pinned to an old version still finds its definition.
CREATE TABLE workflows (
    name         TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    source       TEXT    NOT NULL,
    origin       TEXT    NOT NULL,
    loaded_at    INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);
