package io.mayfly.server.store;

import io.mayfly.wire.manifest.Manifest;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/** Builds and the artifacts they produced. A build's artifacts are recorded in the same transaction that marks it succeeded. */
public final class Builds {
    public enum Status {
        running,
        succeeded,
        failed
    }

    public record Artifact(String name, String sha256, long size) {}

    public record Build(
            String app,
            int number,
            Status status,
            String source,
            String commitId,
            String manifest,
            String command,
            Integer exitCode,
            String reason,
            String provenance,
            Instant startedAt,
            Long durationMs,
            List<Artifact> artifacts,
            Manifest spec) {
        public Optional<Artifact> artifact(String name) {
            return artifacts.stream().filter(a -> a.name().equals(name)).findFirst();
        }

        /** The artifact the manifest names as the image; the first one when the manifest cannot say. */
        public Optional<Artifact> mainArtifact() {
            Optional<Artifact> first = artifacts.stream().findFirst();
            return spec == null ? first : main(spec.build().artifact()).or(() -> first);
        }

        /**
         * The boot image: the artifact the manifest names, or, when it names none (a MirageOS build, which found
         * its image in dist/), the first one, which the build stores first.
         */
        public Optional<Artifact> main(String named) {
            return named != null ? artifact(named) : artifacts.stream().findFirst();
        }
    }

    private static final String COLUMNS =
            "app, number, status, source, commit_id, manifest, command, exit_code, reason, provenance, started_at, duration_ms, spec";

    private final Jdbi db;
    private final String runner;

    /** {@code runner} names this server among those that share the database (see {@link #failInterrupted}). */
    public Builds(Jdbi db, String runner) {
        this.db = db;
        this.runner = runner;
    }

    public Builds(Jdbi db) {
        this(db, "server");
    }

    /** Allocates the app's next build number and records the build as running, its manifest parsed here. */
    public int start(String app, String source, String commitId, String manifest, String command) {
        return start(app, source, commitId, manifest, StoredSpecs.parsedOrNull(manifest), command);
    }

    /**
     * Allocates the app's next build number and records the build as running, with its manifest as parsed
     * ({@code spec}, null when it has none that parses) and as written ({@code manifest}, for display).
     */
    public int start(String app, String source, String commitId, String manifest, Manifest spec, String command) {
        return db.inTransaction(h -> {
            Database.lockApp(h, app);
            int next = h.select("SELECT COALESCE(MAX(number), 0) + 1 FROM builds WHERE app = ?", app)
                    .mapTo(Integer.class)
                    .one();
            h.execute(
                    "INSERT INTO builds(app, number, status, source, commit_id, manifest, command, started_at, runner, spec) "
                            + "VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                    app,
                    next,
                    source,
                    commitId,
                    manifest,
                    command,
                    System.currentTimeMillis(),
                    runner,
                    StoredSpecs.column(spec));
            return next;
        });
    }

    /** Marks the build succeeded and records its artifacts, whose blobs must already be stored. */
    public void succeed(
            String app, int number, int exitCode, long durationMs, String provenance, List<Artifact> artifacts) {
        db.useTransaction(h -> {
            for (Artifact a : artifacts) {
                // ON CONFLICT, not NOT EXISTS: two servers sharing a database may store the same blob at once.
                h.execute(
                        "INSERT INTO blobs(sha256, size, created_at) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                        a.sha256(),
                        a.size(),
                        System.currentTimeMillis());
                h.execute(
                        "INSERT INTO artifacts(app, build, name, sha256, size) VALUES (?, ?, ?, ?, ?)",
                        app,
                        number,
                        a.name(),
                        a.sha256(),
                        a.size());
            }
            h.execute(
                    "UPDATE builds SET status = 'succeeded', exit_code = ?, duration_ms = ?, provenance = ? "
                            + "WHERE app = ? AND number = ?",
                    exitCode,
                    durationMs,
                    provenance,
                    app,
                    number);
        });
    }

    public void fail(String app, int number, Integer exitCode, long durationMs, String reason, String provenance) {
        db.useHandle(h -> h.execute(
                "UPDATE builds SET status = 'failed', exit_code = ?, duration_ms = ?, reason = ?, "
                        + "provenance = COALESCE(?, provenance) WHERE app = ? AND number = ?",
                exitCode,
                durationMs,
                reason,
                provenance,
                app,
                number));
    }

    /** After a crash: builds that were running can never finish. Returns how many were marked failed. */
    /** Fails the builds this server was running when it stopped; those of other servers sharing the database go on. */
    public int failInterrupted() {
        return db.withHandle(h -> h.createUpdate("UPDATE builds SET status = 'failed', "
                        + "reason = 'interrupted: the server stopped while this build was running' "
                        + "WHERE status = 'running' AND (runner = ? OR runner IS NULL)")
                .bind(0, runner)
                .execute());
    }

    /** Gives the builds stored before manifests were kept parsed theirs (see {@link StoredSpecs}). */
    public int storeSpecs() {
        return StoredSpecs.fill(db, "builds", "number");
    }

    public Optional<Build> find(String app, int number) {
        return db.withHandle(
                h -> h.select("SELECT " + COLUMNS + " FROM builds WHERE app = ? AND number = ?", app, number)
                        .map((rs, ctx) -> build(h, rs))
                        .findOne());
    }

    /** Newest first. */
    public List<Build> list(String app, int limit) {
        return db.withHandle(h -> h.select(
                        "SELECT " + COLUMNS + " FROM builds WHERE app = ? ORDER BY number DESC LIMIT ?", app, limit)
                .map((rs, ctx) -> build(h, rs))
                .list());
    }

    private static Build build(Handle h, ResultSet rs) throws SQLException {
        String app = rs.getString("app");
        int number = rs.getInt("number");
        List<Artifact> artifacts = h.select(
                        "SELECT name, sha256, size FROM artifacts WHERE app = ? AND build = ? ORDER BY name",
                        app,
                        number)
                .map((a, ctx) -> new Artifact(a.getString(1), a.getString(2), a.getLong(3)))
                .list();
        long duration = rs.getLong("duration_ms");
        Long durationMs = rs.wasNull() ? null : duration;
        int exit = rs.getInt("exit_code");
        Integer exitCode = rs.wasNull() ? null : exit;
        return new Build(
                app,
                number,
                Status.valueOf(rs.getString("status")),
                rs.getString("source"),
                rs.getString("commit_id"),
                rs.getString("manifest"),
                rs.getString("command"),
                exitCode,
                rs.getString("reason"),
                rs.getString("provenance"),
                Instant.ofEpochMilli(rs.getLong("started_at")),
                durationMs,
                artifacts,
                StoredSpecs.read(rs.getString("spec")));
    }
}
