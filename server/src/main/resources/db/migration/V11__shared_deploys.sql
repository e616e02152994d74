-- Deploys through any of several servers sharing the database: the release each app's agent is being deployed to
-- (its target), whether a staged test waits, which server waits for the outcome, and where to reach each server;
-- the agents' reports of how deploys ended, kept until the waiting server has read them.
ALTER TABLE placements ADD COLUMN target INTEGER;
ALTER TABLE placements ADD COLUMN target_test INTEGER NOT NULL DEFAULT 0;
ALTER TABLE placements ADD COLUMN target_server VARCHAR(64);
ALTER TABLE placements ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;

CREATE TABLE deploy_reports (
    app         VARCHAR(63) NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    report      TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    PRIMARY KEY (app, version)
);

CREATE TABLE servers (
    id      VARCHAR(64) PRIMARY KEY,
    api_url TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);
