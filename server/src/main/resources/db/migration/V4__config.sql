-- Each app's current config vars, encrypted (AES-GCM, key in DATA/config.key). Every release keeps its own copy.
CREATE TABLE app_config (
    app         VARCHAR(63) PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    config      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
