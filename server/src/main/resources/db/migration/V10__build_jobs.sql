-- Builds waiting for a build worker, and which worker claimed each. A worker claims the oldest queued job with
-- one conditional UPDATE (FOR UPDATE SKIP LOCKED on PostgreSQL), so two workers never take the same job.
CREATE TABLE build_jobs (
    id          VARCHAR(32) PRIMARY KEY,
    status      VARCHAR(16) NOT NULL,
    job         TEXT NOT NULL,
    worker      VARCHAR(63),
    queued_at   BIGINT NOT NULL,
    claimed_at  BIGINT,
    finished_at BIGINT
);
CREATE INDEX build_jobs_queued ON build_jobs(status, queued_at);
