-- Apps that build from a repository elsewhere (GitHub, GitLab, Gitea): where, which branch, the webhook secret
-- (sealed like config vars), and when a scheduled rebuild last ran.
CREATE TABLE app_sources (
    app          VARCHAR(63) PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    repo_url     TEXT NOT NULL,
    branch       VARCHAR(255) NOT NULL,
    hook_secret  TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE scheduled_builds (
    app          VARCHAR(63) PRIMARY KEY REFERENCES apps(name) ON DELETE CASCADE,
    last_run_at  BIGINT NOT NULL
);
