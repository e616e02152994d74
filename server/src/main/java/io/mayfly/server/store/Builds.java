package io.mayfly.server.store;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Builds and the artifacts they produced. A build's artifacts are recorded in the same transaction that marks it succeeded. */
public final class Builds {
    public enum Status { running, succeeded, failed }

    public record Artifact(String name, String sha256, long size) {}

    public record Build(String app, int number, Status status, String source, String commitId, String manifest,
                        String command, Integer exitCode, String reason, String provenance, Instant startedAt,
                        Long durationMs, List<Artifact> artifacts) {
        public Optional<Artifact> artifact(String name) {
            return artifacts.stream().filter(a -> a.name().equals(name)).findFirst();
        }
    }

    private static final String COLUMNS =
            "app, number, status, source, commit_id, manifest, command, exit_code, reason, provenance, started_at, duration_ms";

    private final Jdbi db;

    public Builds(Jdbi db) { this.db = db; }

    /** Allocates the app's next build number and records the build as running. */
    public int start(String app, String source, String commitId, String manifest, String command) {
        return db.inTransaction(h -> {
            int next = h.select("SELECT COALESCE(MAX(number), 0) + 1 FROM builds WHERE app = ?", app)
                    .mapTo(Integer.class).one();
            h.execute("INSERT INTO builds(app, number, status, source, commit_id, manifest, command, started_at) "
                            + "VALUES (?, ?, 'running', ?, ?, ?, ?, ?)",
                    app, next, source, commitId, manifest, command, System.currentTimeMillis());
            return next;
        });
    }

    /** Marks the build succeeded and records its artifacts, whose blobs must already be stored. */
    public void succeed(String app, int number, int exitCode, long durationMs, String provenance, List<Artifact> artifacts) {
        db.useTransaction(h -> {
            for (Artifact a : artifacts) {
                h.execute("INSERT INTO blobs(sha256, size, created_at) SELECT ?, ?, ? "
                                + "WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?)",
                        a.sha256(), a.size(), System.currentTimeMillis(), a.sha256());
                h.execute("INSERT INTO artifacts(app, build, name, sha256, size) VALUES (?, ?, ?, ?, ?)",
                        app, number, a.name(), a.sha256(), a.size());
            }
            h.execute("UPDATE builds SET status = 'succeeded', exit_code = ?, duration_ms = ?, provenance = ? "
                    + "WHERE app = ? AND number = ?", exitCode, durationMs, provenance, app, number);
        });
    }

    public void fail(String app, int number, Integer exitCode, long durationMs, String reason, String provenance) {
        db.useHandle(h -> h.execute("UPDATE builds SET status = 'failed', exit_code = ?, duration_ms = ?, reason = ?, "
                + "provenance = COALESCE(?, provenance) WHERE app = ? AND number = ?",
                exitCode, durationMs, reason, provenance, app, number));
    }

    /** After a crash: builds that were running can never finish. Returns how many were marked failed. */
    public int failInterrupted() {
        return db.withHandle(h -> h.createUpdate("UPDATE builds SET status = 'failed', "
                + "reason = 'interrupted: the server stopped while this build was running' WHERE status = 'running'").execute());
    }

    public Optional<Build> find(String app, int number) {
        return db.withHandle(h -> h.select("SELECT " + COLUMNS + " FROM builds WHERE app = ? AND number = ?", app, number)
                .map((rs, ctx) -> build(h, rs)).findOne());
    }

    /** Newest first. */
    public List<Build> list(String app, int limit) {
        return db.withHandle(h -> h.select("SELECT " + COLUMNS + " FROM builds WHERE app = ? ORDER BY number DESC LIMIT ?", app, limit)
                .map((rs, ctx) -> build(h, rs)).list());
    }

    private static Build build(Handle h, ResultSet rs) throws SQLException {
        String app = rs.getString("app");
        int number = rs.getInt("number");
        List<Artifact> artifacts = h.select("SELECT name, sha256, size FROM artifacts WHERE app = ? AND build = ? ORDER BY name", app, number)
                .map((a, ctx) -> new Artifact(a.getString(1), a.getString(2), a.getLong(3))).list();
        long duration = rs.getLong("duration_ms");
        Long durationMs = rs.wasNull() ? null : duration;
        int exit = rs.getInt("exit_code");
        Integer exitCode = rs.wasNull() ? null : exit;
        return new Build(app, number, Status.valueOf(rs.getString("status")), rs.getString("source"),
                rs.getString("commit_id"), rs.getString("manifest"), rs.getString("command"), exitCode,
                rs.getString("reason"), rs.getString("provenance"), Instant.ofEpochMilli(rs.getLong("started_at")),
                durationMs, artifacts);
    }
}
