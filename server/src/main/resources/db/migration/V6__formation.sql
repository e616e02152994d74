-- How many instances an app runs when scaled with ps:scale; without a row, run.instances from the manifest.
CREATE TABLE formation (
    app        VARCHAR(63) PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    instances  INTEGER NOT NULL,
    updated_at BIGINT NOT NULL
);
