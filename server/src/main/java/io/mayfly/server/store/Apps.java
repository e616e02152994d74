package io.mayfly.server.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.mapper.RowMapper;

/** The apps table. */
public final class Apps {
    /** @param isPublic whether anyone may read the app's registry without a token (see {@code Access#mayReadRegistry}) */
    public record App(String name, Instant createdAt, boolean isPublic) {}

    private static final String COLUMNS = "SELECT name, created_at, public_registry FROM apps";
    private static final RowMapper<App> APP =
            (rs, ctx) -> new App(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getBoolean(3));

    private final Jdbi db;

    public Apps(Jdbi db) {
        this.db = db;
    }

    /** A private app; returns false when an app of that name already exists. */
    public boolean create(String name) {
        return create(name, false);
    }

    /** Returns false when an app of that name already exists. */
    public boolean create(String name, boolean isPublic) {
        return db.withHandle(h -> {
            if (h.select("SELECT 1 FROM apps WHERE name = ?", name)
                    .mapTo(Integer.class)
                    .findOne()
                    .isPresent()) {
                return false;
            }
            h.execute(
                    "INSERT INTO apps(name, created_at, public_registry) VALUES (?, ?, ?)",
                    name,
                    System.currentTimeMillis(),
                    isPublic);
            return true;
        });
    }

    /** Makes the app's registry public or private; returns false when it already was (or there is no such app). */
    public boolean setPublic(String name, boolean isPublic) {
        return db.withHandle(h -> h.createUpdate(
                                "UPDATE apps SET public_registry = ? WHERE name = ? AND public_registry <> ?")
                        .bind(0, isPublic)
                        .bind(1, name)
                        .bind(2, isPublic)
                        .execute())
                > 0;
    }

    public Optional<App> find(String name) {
        return db.withHandle(
                h -> h.select(COLUMNS + " WHERE name = ?", name).map(APP).findOne());
    }

    public List<App> all() {
        return db.withHandle(h -> h.select(COLUMNS + " ORDER BY name").map(APP).list());
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
