package io.mayfly.server.store;

import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** The instance count an app was scaled to with ps:scale, which overrides its manifest's run.instances. */
public final class Formation {
    private final Jdbi db;

    public Formation(Jdbi db) {
        this.db = db;
    }

    public Optional<Integer> instances(String app) {
        return db.withHandle(h -> h.select("SELECT instances FROM formation WHERE app = ?", app)
                .mapTo(Integer.class)
                .findOne());
    }

    public void set(String app, int instances) {
        db.useTransaction(h -> {
            h.execute("DELETE FROM formation WHERE app = ?", app);
            h.execute(
                    "INSERT INTO formation(app, instances, updated_at) VALUES (?, ?, ?)",
                    app,
                    instances,
                    System.currentTimeMillis());
        });
    }

    /** Back to the manifest's run.instances. */
    public void clear(String app) {
        db.useHandle(h -> h.execute("DELETE FROM formation WHERE app = ?", app));
    }
}
