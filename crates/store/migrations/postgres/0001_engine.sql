-- Seam's engine tables, PostgreSQL dialect. Times are Unix seconds; JSON is TEXT.

CREATE TABLE events (
    seq          BIGSERIAL PRIMARY KEY,
    source       TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    event_type   TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    received_at  BIGINT  NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending', -- pending | routed | unmatched
    routed_at    BIGINT ,
    UNIQUE (source, event_id)
);
CREATE INDEX events_pending ON events (status, seq);

CREATE TABLE dead_letters (
    id           BIGSERIAL PRIMARY KEY,
    source       TEXT    NOT NULL,
    received_at  BIGINT  NOT NULL,
    reason       TEXT    NOT NULL,
    body         TEXT    NOT NULL
);

CREATE TABLE runs (
    id           TEXT    PRIMARY KEY,
    workflow     TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    key          TEXT,
    status       TEXT    NOT NULL, -- not_started | running | succeeded | failed | cancelled
    state        TEXT    NOT NULL,
    wake_at      BIGINT ,
    fence        BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE UNIQUE INDEX runs_live_key ON runs (workflow, key) WHERE status IN ('not_started', 'running');
CREATE INDEX runs_wake ON runs (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX runs_status ON runs (status, updated_at);

CREATE TABLE early_events (
    id           BIGSERIAL PRIMARY KEY,
    workflow     TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    event        TEXT    NOT NULL,
    received_at  BIGINT  NOT NULL
);
CREATE INDEX early_events_key ON early_events (workflow, key);

CREATE TABLE calls (
    id              BIGSERIAL PRIMARY KEY,
    run_id          TEXT    NOT NULL,
    step            TEXT    NOT NULL,
    attempt         BIGINT  NOT NULL,
    idempotency_key TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    args            TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending', -- pending | done | skipped
    fence           BIGINT  NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_until     BIGINT ,
    tries           BIGINT  NOT NULL DEFAULT 0,
    outcome         TEXT,
    created_at      BIGINT  NOT NULL,
    done_at         BIGINT 
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
    due_at       BIGINT  NOT NULL,
    status       TEXT    NOT NULL, -- open | resolved | retried | dismissed | closed
    decided_by   TEXT,
    decided_at   BIGINT ,
    note         TEXT,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX inbox_status ON inbox (status, due_at);

CREATE TABLE audit (
    seq          BIGSERIAL PRIMARY KEY,
    at           BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,
    run_id       TEXT,
    event_id     TEXT,
    workflow     TEXT,
    step         TEXT,
    attempt      BIGINT ,
    actor        TEXT,
    detail       TEXT    NOT NULL,
    data         TEXT
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_run ON audit (run_id);
CREATE FUNCTION seam_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END;
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION seam_audit_append_only();

CREATE TABLE ledger (
    seq             BIGSERIAL PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    ledger          TEXT    NOT NULL,
    run_id          TEXT    NOT NULL,
    workflow        TEXT    NOT NULL,
    at              BIGINT  NOT NULL,
    fields          TEXT    NOT NULL,
    shipped         BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX ledger_unshipped ON ledger (shipped, seq);

-- Every workflow version ever loaded, so a run pinned to an old version still finds its definition.
CREATE TABLE workflows (
    name         TEXT    NOT NULL,
    version      BIGINT NOT NULL,
    source       TEXT    NOT NULL,
    origin       TEXT    NOT NULL,
    loaded_at    BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);
