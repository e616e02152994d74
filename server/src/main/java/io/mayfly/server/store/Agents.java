package io.mayfly.server.store;

import com.fasterxml.jackson.core.type.TypeReference;
import io.mayfly.wire.AgentViews;
import io.mayfly.wire.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** The remote agents that registered with this server, their last report, and which agent each app is placed on. */
public final class Agents {
    public enum Status {
        up,
        down
    }

    public record Agent(
            String name,
            List<String> drivers,
            long capacityMb,
            String router,
            Status status,
            List<AgentViews.InstanceReport> instances,
            Instant lastContact) {}

    /** The release an app's agent is being deployed to, whether a staged test waits, and which server waits for it. */
    public record Target(int version, boolean test, String server) {}

    private final Jdbi db;

    public Agents(Jdbi db) {
        this.db = db;
    }

    /** Records (or refreshes) an agent as up. */
    public void register(String name, AgentViews.Registration r) {
        long now = System.currentTimeMillis();
        db.useHandle(h -> h.execute("""
                INSERT INTO agents(name, drivers, capacity_mb, router, status, registered_at, last_contact) VALUES (?, ?, ?, ?, 'up', ?, ?)
                ON CONFLICT (name) DO UPDATE SET drivers = EXCLUDED.drivers, capacity_mb = EXCLUDED.capacity_mb,
                  router = EXCLUDED.router, status = 'up', last_contact = EXCLUDED.last_contact""", name, Json.write(r.drivers()), r.capacityMb(), r.router(), now, now));
    }

    /** A heartbeat: what the agent runs now. Returns false when the agent never registered. */
    public boolean report(String name, List<AgentViews.InstanceReport> instances) {
        return db.withHandle(h -> h.createUpdate(
                                "UPDATE agents SET instances = ?, status = 'up', last_contact = ? WHERE name = ?")
                        .bind(0, Json.write(instances))
                        .bind(1, System.currentTimeMillis())
                        .bind(2, name)
                        .execute())
                == 1;
    }

    /** Marks down every up agent silent since {@code before}; returns their names. */
    public List<String> markSilentDown(Instant before) {
        return db.inTransaction(h -> {
            List<String> silent = h.select(
                            "SELECT name FROM agents WHERE status = 'up' AND last_contact < ?", before.toEpochMilli())
                    .mapTo(String.class)
                    .list();
            for (String name : silent) h.execute("UPDATE agents SET status = 'down' WHERE name = ?", name);
            return silent;
        });
    }

    public List<Agent> all() {
        return db.withHandle(h -> h.select("SELECT * FROM agents ORDER BY name")
                .map((rs, ctx) -> agent(rs))
                .list());
    }

    public Optional<Agent> find(String name) {
        return db.withHandle(h -> h.select("SELECT * FROM agents WHERE name = ?", name)
                .map((rs, ctx) -> agent(rs))
                .findOne());
    }

    public Optional<String> placement(String app) {
        return db.withHandle(h -> h.select("SELECT agent FROM placements WHERE app = ?", app)
                .mapTo(String.class)
                .findOne());
    }

    public List<String> appsOn(String agent) {
        return db.withHandle(h -> h.select("SELECT app FROM placements WHERE agent = ? ORDER BY app", agent)
                .mapTo(String.class)
                .list());
    }

    public void place(String app, String agent) {
        db.useHandle(h -> h.execute("""
                INSERT INTO placements(app, agent, placed_at) VALUES (?, ?, ?)
                ON CONFLICT (app) DO UPDATE SET agent = EXCLUDED.agent, placed_at = EXCLUDED.placed_at""", app, agent, System.currentTimeMillis()));
    }

    /** Sets the app's target release (a deploy, or a scale of the live release, that {@code server} waits for). */
    public void setTarget(String app, int version, boolean test, String server) {
        db.useHandle(h -> h.execute(
                "UPDATE placements SET target = ?, target_test = ?, target_server = ?, changed_at = ? WHERE app = ?",
                version,
                test ? 1 : 0,
                server,
                System.currentTimeMillis(),
                app));
    }

    /** The deploy of {@code version} is recorded: the app's agent runs its live release again; its report goes. */
    public void clearTarget(String app, int version) {
        db.useTransaction(h -> {
            h.execute(
                    "UPDATE placements SET target = NULL, target_test = 0, target_server = NULL, changed_at = ? WHERE app = ? AND target = ?",
                    System.currentTimeMillis(),
                    app,
                    version);
            h.execute("DELETE FROM deploy_reports WHERE app = ? AND version = ?", app, version);
        });
    }

    /** At a server's start: the deploys it waited for ended with it (their releases are marked failed). */
    public int clearTargetsOf(String server) {
        return db.withHandle(h -> h.createUpdate(
                        "UPDATE placements SET target = NULL, target_test = 0, target_server = NULL, changed_at = ? "
                                + "WHERE target_server = ?")
                .bind(0, System.currentTimeMillis())
                .bind(1, server)
                .execute());
    }

    public Optional<Target> target(String app) {
        return db.withHandle(h -> h.select(
                        "SELECT target, target_test, target_server FROM placements WHERE app = ? AND target IS NOT NULL",
                        app)
                .map((rs, ctx) -> new Target(rs.getInt(1), rs.getInt(2) != 0, rs.getString(3)))
                .findOne());
    }

    /** Keeps an agent's report of how a deploy ended, for the server waiting for it (maybe another one). */
    public void recordReport(String app, int version, String report) {
        db.useHandle(h -> h.execute("""
                INSERT INTO deploy_reports(app, version, report, reported_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (app, version) DO UPDATE SET report = EXCLUDED.report, reported_at = EXCLUDED.reported_at""", app, version, report, System.currentTimeMillis()));
    }

    public Optional<String> report(String app, int version) {
        return db.withHandle(
                h -> h.select("SELECT report FROM deploy_reports WHERE app = ? AND version = ?", app, version)
                        .mapTo(String.class)
                        .findOne());
    }

    /** Where this server can be reached by the others sharing the database (they forward agents' requests to it). */
    public void registerServer(String id, String apiUrl) {
        db.useHandle(h -> h.execute("""
                INSERT INTO servers(id, api_url, seen_at) VALUES (?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET api_url = EXCLUDED.api_url, seen_at = EXCLUDED.seen_at""", id, apiUrl, System.currentTimeMillis()));
    }

    public Optional<String> serverUrl(String id) {
        return db.withHandle(h -> h.select("SELECT api_url FROM servers WHERE id = ?", id)
                .mapTo(String.class)
                .findOne());
    }

    /**
     * A cheap fingerprint of what desired states are made of (releases settling, formation, placements): it changes
     * whenever any server sharing the database changes one of them.
     */
    public String changeStamp() {
        return db.withHandle(h -> h.select("""
                SELECT (SELECT COALESCE(MAX(finished_at), 0) FROM releases) || '/' || (SELECT COUNT(*) FROM releases)
                  || '/' || (SELECT COALESCE(MAX(updated_at), 0) FROM formation) || '/' || (SELECT COUNT(*) FROM formation)
                  || '/' || (SELECT COALESCE(MAX(placed_at), 0) FROM placements) || '/' || (SELECT COUNT(*) FROM placements)
                  || '/' || (SELECT COALESCE(MAX(changed_at), 0) FROM placements)""").mapTo(String.class).one());
    }

    private static Agent agent(ResultSet rs) throws SQLException {
        try {
            String instances = rs.getString("instances");
            return new Agent(
                    rs.getString("name"),
                    Json.MAPPER.readValue(rs.getString("drivers"), new TypeReference<List<String>>() {}),
                    rs.getLong("capacity_mb"),
                    rs.getString("router"),
                    Status.valueOf(rs.getString("status")),
                    instances == null
                            ? List.of()
                            : Json.MAPPER.readValue(instances, new TypeReference<List<AgentViews.InstanceReport>>() {}),
                    Instant.ofEpochMilli(rs.getLong("last_contact")));
        } catch (IOException e) {
            throw new UncheckedIOException("agent " + rs.getString("name") + " has an unreadable row", e);
        }
    }
}
