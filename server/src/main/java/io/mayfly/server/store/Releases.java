package io.mayfly.server.store;

import com.fasterxml.jackson.core.type.TypeReference;
import io.mayfly.wire.Json;
import io.mayfly.wire.Views;
import io.mayfly.wire.manifest.Manifest;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Releases vN. The fields that define what runs (build, manifest, config) never change after insert; only the
 * outcome (status, reason, phase timings) is filled in as the deploy proceeds. At most one release per app is live.
 */
public final class Releases {
    public enum Status {
        deploying,
        live,
        superseded,
        failed
    }

    public record Release(
            String app,
            int version,
            int build,
            Status status,
            String reason,
            String description,
            String manifest,
            String config,
            Map<String, Long> phases,
            Instant createdAt,
            Instant finishedAt,
            Manifest spec) {
        /** The release as the API and the registry show it, with the artifact it boots from ({@code main}). */
        public Views.ReleaseView view(Optional<Builds.Artifact> main) {
            return new Views.ReleaseView(
                    app,
                    version,
                    build,
                    main.map(Builds.Artifact::name).orElse(null),
                    main.map(Builds.Artifact::sha256).orElse(null),
                    main.map(Builds.Artifact::size).orElse(0L),
                    status.name(),
                    reason,
                    description,
                    createdAt,
                    phases);
        }
    }

    private final Jdbi db;
    private final String runner;

    /** {@code runner} names this server among those that share the database (see {@link #failInterrupted}). */
    public Releases(Jdbi db, String runner) {
        this.db = db;
        this.runner = runner;
    }

    public Releases(Jdbi db) {
        this(db, "server");
    }

    /** Creates release vN, its manifest parsed here. */
    public Release create(String app, int build, String description, String manifest, String config) {
        return create(app, build, description, manifest, StoredSpecs.parsedOrNull(manifest), config);
    }

    /** Creates release vN with its manifest as parsed ({@code spec}) and as written ({@code manifest}, for display). */
    public Release create(String app, int build, String description, String manifest, Manifest spec, String config) {
        int version = db.inTransaction(h -> {
            Database.lockApp(h, app);
            int next = h.select("SELECT COALESCE(MAX(version), 0) + 1 FROM releases WHERE app = ?", app)
                    .mapTo(Integer.class)
                    .one();
            h.execute(
                    "INSERT INTO releases(app, version, build, status, description, manifest, config, created_at, runner, spec) "
                            + "VALUES (?, ?, ?, 'deploying', ?, ?, ?, ?, ?, ?)",
                    app,
                    next,
                    build,
                    description,
                    manifest,
                    config,
                    System.currentTimeMillis(),
                    runner,
                    StoredSpecs.column(spec));
            return next;
        });
        return find(app, version).orElseThrow();
    }

    /** Makes this release the live one and the previously live one superseded, in one transaction. */
    public void markLive(String app, int version, Map<String, Long> phases) {
        db.useTransaction(h -> {
            h.execute("UPDATE releases SET status = 'superseded' WHERE app = ? AND status = 'live'", app);
            h.execute(
                    "UPDATE releases SET status = 'live', phases = ?, finished_at = ? WHERE app = ? AND version = ?",
                    Json.write(phases),
                    System.currentTimeMillis(),
                    app,
                    version);
        });
    }

    public void markFailed(String app, int version, String reason, Map<String, Long> phases) {
        db.useHandle(h -> h.execute(
                "UPDATE releases SET status = 'failed', reason = ?, phases = ?, finished_at = ? WHERE app = ? AND version = ?",
                reason,
                Json.write(phases),
                System.currentTimeMillis(),
                app,
                version));
    }

    /**
     * A live release that failed in its liveness window, its agent having moved the traffic back to {@code liveAgain}:
     * in one transaction the failed one is marked failed with the reason and the other is live again. Nothing changes
     * (false) unless {@code failed} is the live release, so a late report cannot undo a later deploy.
     */
    public boolean rollBack(String app, int failed, String reason, int liveAgain) {
        return db.inTransaction(h -> {
            Database.lockApp(h, app);
            int changed = h.createUpdate(
                            "UPDATE releases SET status = 'failed', reason = ? WHERE app = ? AND version = ? AND status = 'live'")
                    .bind(0, reason)
                    .bind(1, app)
                    .bind(2, failed)
                    .execute();
            if (changed == 0) return false;
            h.execute("UPDATE releases SET status = 'live' WHERE app = ? AND version = ?", app, liveAgain);
            return true;
        });
    }

    /** Fails the deploys this server was making when it stopped; those of other servers sharing the database go on. */
    public int failInterrupted() {
        return db.withHandle(h -> h.createUpdate("UPDATE releases SET status = 'failed', finished_at = ?, "
                        + "reason = 'interrupted: the server stopped during this deploy; the previous release kept serving' "
                        + "WHERE status = 'deploying' AND (runner = ? OR runner IS NULL)")
                .bind(0, System.currentTimeMillis())
                .bind(1, runner)
                .execute());
    }

    /** Gives the releases stored before manifests were kept parsed theirs (see {@link StoredSpecs}). */
    public int storeSpecs() {
        return StoredSpecs.fill(db, "releases", "version");
    }

    public Optional<Release> live(String app) {
        return db.withHandle(h -> h.select("SELECT * FROM releases WHERE app = ? AND status = 'live'", app)
                .map((rs, ctx) -> release(rs))
                .findOne());
    }

    public Optional<Release> find(String app, int version) {
        return db.withHandle(h -> h.select("SELECT * FROM releases WHERE app = ? AND version = ?", app, version)
                .map((rs, ctx) -> release(rs))
                .findOne());
    }

    /** Newest first. */
    public List<Release> list(String app) {
        return db.withHandle(h -> h.select("SELECT * FROM releases WHERE app = ? ORDER BY version DESC", app)
                .map((rs, ctx) -> release(rs))
                .list());
    }

    public List<Release> allLive() {
        return db.withHandle(h -> h.select("SELECT * FROM releases WHERE status = 'live' ORDER BY app")
                .map((rs, ctx) -> release(rs))
                .list());
    }

    private static Release release(ResultSet rs) throws SQLException {
        String phases = rs.getString("phases");
        long finished = rs.getLong("finished_at");
        Instant finishedAt = rs.wasNull() ? null : Instant.ofEpochMilli(finished);
        return new Release(
                rs.getString("app"),
                rs.getInt("version"),
                rs.getInt("build"),
                Status.valueOf(rs.getString("status")),
                rs.getString("reason"),
                rs.getString("description"),
                rs.getString("manifest"),
                rs.getString("config"),
                phases == null ? Map.of() : readPhases(phases),
                Instant.ofEpochMilli(rs.getLong("created_at")),
                finishedAt,
                StoredSpecs.read(rs.getString("spec")));
    }

    private static Map<String, Long> readPhases(String json) {
        try {
            return Json.MAPPER.readValue(json, new TypeReference<LinkedHashMap<String, Long>>() {});
        } catch (Exception e) {
            return Map.of();
        }
    }
}
