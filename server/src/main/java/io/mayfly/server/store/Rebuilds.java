package io.mayfly.server.store;

import java.time.Instant;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Reproducibility verdicts: build {@code build} of an app was built again as build {@code rebuild}, and either
 * every artifact hash matched (reproducible) or {@code differences} says which did not.
 */
public final class Rebuilds {
    public record Verdict(
            String app, int build, int rebuild, boolean reproducible, String differences, Instant createdAt) {}

    private final Jdbi db;

    public Rebuilds(Jdbi db) {
        this.db = db;
    }

    public void record(String app, int build, int rebuild, boolean reproducible, String differences) {
        db.useHandle(h -> h.execute(
                "INSERT INTO rebuilds(app, build, rebuild, reproducible, differences, created_at) "
                        + "VALUES (?, ?, ?, ?, ?, ?)",
                app,
                build,
                rebuild,
                reproducible,
                differences,
                System.currentTimeMillis()));
    }

    /** The newest verdict on the build, if it was ever rebuilt. */
    public Optional<Verdict> latest(String app, int build) {
        return db.withHandle(h -> h.select(
                        "SELECT app, build, rebuild, reproducible, differences, created_at FROM rebuilds "
                                + "WHERE app = ? AND build = ? ORDER BY created_at DESC, rebuild DESC LIMIT 1",
                        app,
                        build)
                .map((rs, ctx) -> new Verdict(
                        rs.getString(1),
                        rs.getInt(2),
                        rs.getInt(3),
                        rs.getBoolean(4),
                        rs.getString(5),
                        Instant.ofEpochMilli(rs.getLong(6))))
                .findOne());
    }
}
