-- Remote agents (hosts that run instances for this server) and which agent each app runs on.
CREATE TABLE agents (
    name          VARCHAR(63) PRIMARY KEY,
    drivers       TEXT NOT NULL,
    capacity_mb   BIGINT NOT NULL,
    router        TEXT,
    status        VARCHAR(8) NOT NULL,
    instances     TEXT,
    registered_at BIGINT NOT NULL,
    last_contact  BIGINT NOT NULL
);

CREATE TABLE placements (
    app        VARCHAR(63) PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    agent      VARCHAR(63) NOT NULL REFERENCES agents(name),
    placed_at  BIGINT NOT NULL
);
