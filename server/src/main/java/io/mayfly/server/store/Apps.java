package io.mayfly.server.store;

import org.jdbi.v3.core.Jdbi;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** The apps table. */
public final class Apps {
    public record App(String name, Instant createdAt) {}

    private final Jdbi db;

    public Apps(Jdbi db) { this.db = db; }

    /** Returns false when an app of that name already exists. */
    public boolean create(String name) {
        return db.withHandle(h -> {
            if (h.select("SELECT 1 FROM apps WHERE name = ?", name).mapTo(Integer.class).findOne().isPresent()) {
                return false;
            }
            h.execute("INSERT INTO apps(name, created_at) VALUES (?, ?)", name, System.currentTimeMillis());
            return true;
        });
    }

    public Optional<App> find(String name) {
        return db.withHandle(h -> h.select("SELECT name, created_at FROM apps WHERE name = ?", name)
                .map((rs, ctx) -> new App(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)))).findOne());
    }

    public List<App> all() {
        return db.withHandle(h -> h.select("SELECT name, created_at FROM apps ORDER BY name")
                .map((rs, ctx) -> new App(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)))).list());
    }

    /**
     * Deletes the app with its builds and releases (artifacts' blobs stay until pruned), and revokes its tokens in the
     * same transaction: an app made again under the name is a new app, which no token of the old one reaches. Returns
     * how many tokens were revoked.
     */
    public int delete(String name) {
        return db.inTransaction(h -> {
            Database.lockApp(h, name);
            h.execute("DELETE FROM releases WHERE app = ?", name);
            h.execute("DELETE FROM artifacts WHERE app = ?", name);
            h.execute("DELETE FROM builds WHERE app = ?", name);
            h.execute("DELETE FROM apps WHERE name = ?", name);
            return Tokens.revokeAllOf(h, name, "app " + name + " was destroyed");
        });
    }
}
