-- Accounts and access: people who sign in (users), programs that call the JSON API (api_tokens), signed-in
-- browsers (sessions) and failed sign-ins (login_failures, for rate limiting). No secret is stored as given:
-- passwords as Argon2id PHC strings, token and session secrets as the hex SHA-256 of the secret.

CREATE TABLE users (
    email               TEXT    PRIMARY KEY,   -- lowercased
    role                TEXT    NOT NULL,      -- admin | finance | fulfillment | support
    password_hash       TEXT    NOT NULL,
    created_at          BIGINT  NOT NULL,
    password_changed_at BIGINT  NOT NULL
);

CREATE TABLE api_tokens (
    name         TEXT    PRIMARY KEY,          -- never reused, so the audit log's actor names one token
    role         TEXT    NOT NULL,
    secret_hash  TEXT    NOT NULL UNIQUE,
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE sessions (
    id_hash      TEXT    PRIMARY KEY,
    email        TEXT    NOT NULL,
    csrf_token   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX sessions_email ON sessions (email);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE login_failures (
    id           BIGSERIAL PRIMARY KEY,
    email        TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    at           BIGINT  NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (email, address, at);
CREATE INDEX login_failures_at ON login_failures (at);

CREATE INDEX inbox_team ON inbox (team, status, due_at);
CREATE INDEX runs_workflow ON runs (workflow, created_at);
