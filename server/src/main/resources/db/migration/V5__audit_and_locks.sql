-- Who changed what: every release, lock, scale and app change, with the token that made it (kept after the app is gone).
CREATE TABLE audit (
    app     VARCHAR(63) NOT NULL,
    at      BIGINT NOT NULL,
    actor   VARCHAR(64) NOT NULL,
    action  VARCHAR(32) NOT NULL,
    detail  TEXT
);
CREATE INDEX audit_by_app ON audit(app, at);

-- Deploy locks: while a row exists, no new release of the app is made.
CREATE TABLE deploy_locks (
    app     VARCHAR(63) PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    reason  TEXT NOT NULL,
    actor   VARCHAR(64) NOT NULL,
    at      BIGINT NOT NULL
);
