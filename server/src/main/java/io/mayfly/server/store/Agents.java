package io.mayfly.server.store;

import com.fasterxml.jackson.core.type.TypeReference;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import org.jdbi.v3.core.Jdbi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** The remote agents that registered with this server, their last report, and which agent each app is placed on. */
public final class Agents {
    public enum Status { up, down }

    public record Agent(String name, List<String> drivers, long capacityMb, String router, Status status,
                        List<AgentViews.InstanceReport> instances, Instant lastContact) {}

    private final Jdbi db;

    public Agents(Jdbi db) { this.db = db; }

    /** Records (or refreshes) an agent as up. */
    public void register(String name, AgentViews.Registration r) {
        long now = System.currentTimeMillis();
        db.useHandle(h -> h.execute("""
                INSERT INTO agents(name, drivers, capacity_mb, router, status, registered_at, last_contact) VALUES (?, ?, ?, ?, 'up', ?, ?)
                ON CONFLICT (name) DO UPDATE SET drivers = EXCLUDED.drivers, capacity_mb = EXCLUDED.capacity_mb,
                  router = EXCLUDED.router, status = 'up', last_contact = EXCLUDED.last_contact""",
                name, Json.write(r.drivers()), r.capacityMb(), r.router(), now, now));
    }

    /** A heartbeat: what the agent runs now. Returns false when the agent never registered. */
    public boolean report(String name, List<AgentViews.InstanceReport> instances) {
        return db.withHandle(h -> h.createUpdate("UPDATE agents SET instances = ?, status = 'up', last_contact = ? WHERE name = ?")
                .bind(0, Json.write(instances)).bind(1, System.currentTimeMillis()).bind(2, name).execute()) == 1;
    }

    /** Marks down every up agent silent since {@code before}; returns their names. */
    public List<String> markSilentDown(Instant before) {
        return db.inTransaction(h -> {
            List<String> silent = h.select("SELECT name FROM agents WHERE status = 'up' AND last_contact < ?", before.toEpochMilli())
                    .mapTo(String.class).list();
            for (String name : silent) h.execute("UPDATE agents SET status = 'down' WHERE name = ?", name);
            return silent;
        });
    }

    public List<Agent> all() {
        return db.withHandle(h -> h.select("SELECT * FROM agents ORDER BY name").map((rs, ctx) -> agent(rs)).list());
    }

    public Optional<Agent> find(String name) {
        return db.withHandle(h -> h.select("SELECT * FROM agents WHERE name = ?", name).map((rs, ctx) -> agent(rs)).findOne());
    }

    public Optional<String> placement(String app) {
        return db.withHandle(h -> h.select("SELECT agent FROM placements WHERE app = ?", app).mapTo(String.class).findOne());
    }

    public List<String> appsOn(String agent) {
        return db.withHandle(h -> h.select("SELECT app FROM placements WHERE agent = ? ORDER BY app", agent).mapTo(String.class).list());
    }

    public void place(String app, String agent) {
        db.useHandle(h -> h.execute("""
                INSERT INTO placements(app, agent, placed_at) VALUES (?, ?, ?)
                ON CONFLICT (app) DO UPDATE SET agent = EXCLUDED.agent, placed_at = EXCLUDED.placed_at""",
                app, agent, System.currentTimeMillis()));
    }

    /**
     * A cheap fingerprint of what desired states are made of (releases settling, formation, placements): it changes
     * whenever any server sharing the database changes one of them.
     */
    public String changeStamp() {
        return db.withHandle(h -> h.select("""
                SELECT (SELECT COALESCE(MAX(finished_at), 0) FROM releases) || '/' || (SELECT COUNT(*) FROM releases)
                  || '/' || (SELECT COALESCE(MAX(updated_at), 0) FROM formation) || '/' || (SELECT COUNT(*) FROM formation)
                  || '/' || (SELECT COALESCE(MAX(placed_at), 0) FROM placements) || '/' || (SELECT COUNT(*) FROM placements)""")
                .mapTo(String.class).one());
    }

    private static Agent agent(ResultSet rs) throws SQLException {
        try {
            String instances = rs.getString("instances");
            return new Agent(rs.getString("name"), Json.MAPPER.readValue(rs.getString("drivers"), new TypeReference<List<String>>() {}),
                    rs.getLong("capacity_mb"), rs.getString("router"), Status.valueOf(rs.getString("status")),
                    instances == null ? List.of() : Json.MAPPER.readValue(instances, new TypeReference<List<AgentViews.InstanceReport>>() {}),
                    Instant.ofEpochMilli(rs.getLong("last_contact")));
        } catch (IOException e) {
            throw new UncheckedIOException("agent " + rs.getString("name") + " has an unreadable row", e);
        }
    }
}
