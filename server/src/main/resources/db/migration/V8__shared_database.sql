-- Which server runs a build or a deploy, so that a server starting up fails only what it was itself running when
-- it stopped, not the work of another server sharing this database. NULL: recorded before there were several.
ALTER TABLE builds ADD COLUMN runner VARCHAR(64);
ALTER TABLE releases ADD COLUMN runner VARCHAR(64);

-- What the keys of the servers sharing this database are, so that a server with other keys refuses to start
-- instead of signing artifacts with a key nobody trusts or failing to read config vars: the signing key's
-- fingerprint, and a probe sealed with the config key.
CREATE TABLE shared_keys (
    name   VARCHAR(32) PRIMARY KEY,
    value  TEXT NOT NULL
);
