-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are epoch milliseconds.
CREATE TABLE apps (
    name        VARCHAR(63) PRIMARY KEY,
    created_at  BIGINT NOT NULL
);

CREATE TABLE tokens (
    id           VARCHAR(32) PRIMARY KEY,
    hash         VARCHAR(64) NOT NULL UNIQUE,
    scope        VARCHAR(16) NOT NULL,
    app          VARCHAR(63),
    description  TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    last_used_at BIGINT
);

CREATE TABLE blobs (
    sha256      VARCHAR(64) PRIMARY KEY,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE builds (
    app         VARCHAR(63) NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    status      VARCHAR(16) NOT NULL,
    source      VARCHAR(16) NOT NULL,
    commit_id   VARCHAR(64),
    manifest    TEXT,
    command     TEXT,
    exit_code   INTEGER,
    reason      TEXT,
    provenance  TEXT,
    started_at  BIGINT NOT NULL,
    duration_ms BIGINT,
    PRIMARY KEY (app, number)
);

CREATE TABLE artifacts (
    app         VARCHAR(63) NOT NULL,
    build       INTEGER NOT NULL,
    name        VARCHAR(255) NOT NULL,
    sha256      VARCHAR(64) NOT NULL REFERENCES blobs(sha256),
    size        BIGINT NOT NULL,
    PRIMARY KEY (app, build, name),
    FOREIGN KEY (app, build) REFERENCES builds(app, number) ON DELETE CASCADE
);
CREATE INDEX artifacts_by_sha256 ON artifacts(sha256);

CREATE TABLE releases (
    app          VARCHAR(63) NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    build        INTEGER NOT NULL,
    status       VARCHAR(16) NOT NULL,
    reason       TEXT,
    description  TEXT NOT NULL,
    manifest     TEXT NOT NULL,
    config       TEXT NOT NULL,
    phases       TEXT,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT,
    PRIMARY KEY (app, version),
    FOREIGN KEY (app, build) REFERENCES builds(app, number)
);
