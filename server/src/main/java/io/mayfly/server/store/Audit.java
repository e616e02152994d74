package io.mayfly.server.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** The audit log (who changed what, with which token) and the deploy locks. */
public final class Audit {
    public record Entry(String app, Instant at, String actor, String action, String detail) {}

    public record Lock(String app, String reason, String actor, Instant at) {}

    private final Jdbi db;

    public Audit(Jdbi db) {
        this.db = db;
    }

    public void record(String app, String actor, String action, String detail) {
        db.useHandle(h -> h.execute(
                "INSERT INTO audit(app, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
                app,
                System.currentTimeMillis(),
                actor,
                action,
                detail));
    }

    /** Newest first. */
    public List<Entry> list(String app, int limit) {
        return db.withHandle(h -> h.select(
                        "SELECT app, at, actor, action, detail FROM audit WHERE app = ? ORDER BY at DESC LIMIT ?",
                        app,
                        limit)
                .map((rs, ctx) -> new Entry(
                        rs.getString(1),
                        Instant.ofEpochMilli(rs.getLong(2)),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5)))
                .list());
    }

    /** Returns false when the app was already locked. */
    public boolean lock(String app, String reason, String actor) {
        return db.inTransaction(h -> {
            if (h.select("SELECT 1 FROM deploy_locks WHERE app = ?", app)
                    .mapTo(Integer.class)
                    .findOne()
                    .isPresent()) return false;
            h.execute(
                    "INSERT INTO deploy_locks(app, reason, actor, at) VALUES (?, ?, ?, ?)",
                    app,
                    reason,
                    actor,
                    System.currentTimeMillis());
            return true;
        });
    }

    public boolean unlock(String app) {
        return db.withHandle(h -> h.createUpdate("DELETE FROM deploy_locks WHERE app = ?")
                        .bind(0, app)
                        .execute())
                > 0;
    }

    public Optional<Lock> lockOf(String app) {
        return db.withHandle(h -> h.select("SELECT app, reason, actor, at FROM deploy_locks WHERE app = ?", app)
                .map((rs, ctx) -> new Lock(
                        rs.getString(1), rs.getString(2), rs.getString(3), Instant.ofEpochMilli(rs.getLong(4))))
                .findOne());
    }
}
