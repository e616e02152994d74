package io.mayfly.server.store;

import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** Lookups across builds that the registry needs: which builds produced a hash, and an app's newest successful build. */
public final class BuildIndex {
    /** One artifact with this hash: which app and build produced it, under which name. */
    public record Hit(String app, int build, String artifact, long size) {}

    private final Jdbi db;

    public BuildIndex(Jdbi db) {
        this.db = db;
    }

    /** Every artifact with these bytes, oldest app and build first. */
    public List<Hit> byArtifactHash(String sha256) {
        return db.withHandle(h -> h.select(
                        "SELECT app, build, name, size FROM artifacts WHERE sha256 = ? ORDER BY app, build, name",
                        sha256)
                .map((rs, ctx) -> new Hit(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getLong(4)))
                .list());
    }

    public Optional<Integer> latestSucceeded(String app) {
        return db.withHandle(h -> h.select(
                        "SELECT number FROM builds WHERE app = ? AND status = 'succeeded' ORDER BY number DESC LIMIT 1",
                        app)
                .mapTo(Integer.class)
                .findOne());
    }
}
