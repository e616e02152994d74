-- Reproducibility verdicts: a build rebuilt from its recorded source and manifest, and whether every artifact
-- hash matched. Portable SQL (SQLite and PostgreSQL); times are epoch milliseconds.
CREATE TABLE rebuilds (
    app          VARCHAR(63) NOT NULL,
    build        INTEGER NOT NULL,
    rebuild      INTEGER NOT NULL,
    reproducible BOOLEAN NOT NULL,
    differences  TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (app, build, rebuild)
);
