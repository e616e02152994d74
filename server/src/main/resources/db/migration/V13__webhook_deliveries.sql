-- Webhook deliveries already taken, by the id their sender gives each one (GitHub X-GitHub-Delivery, Gitea
-- X-Gitea-Delivery, GitLab Idempotency-Key or X-Gitlab-Event-UUID): a delivery sent again, by a retry or a replay, is
-- answered "already handled" and triggers nothing. Rows older than a week are removed as new ones arrive.
CREATE TABLE webhook_deliveries (
    app          VARCHAR(63) NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
    sender       VARCHAR(16) NOT NULL,
    delivery     VARCHAR(128) NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (app, sender, delivery)
);
CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries(received_at);
