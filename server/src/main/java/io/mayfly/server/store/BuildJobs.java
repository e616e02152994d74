package io.mayfly.server.store;

import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * The queue of builds for build workers. A job is queued, claimed by exactly one worker, then finished (or
 * abandoned). Claiming is one conditional UPDATE of the oldest queued row, which on PostgreSQL also skips rows
 * another transaction holds: two workers, even through two servers sharing the database, never take the same job.
 */
public final class BuildJobs {
    public record Claimed(String id, String job) {}

    private final Jdbi db;

    public BuildJobs(Jdbi db) {
        this.db = db;
    }

    public void enqueue(String id, String job) {
        db.useHandle(h -> h.execute(
                "INSERT INTO build_jobs(id, status, job, queued_at) VALUES (?, 'queued', ?, ?)",
                id,
                job,
                System.currentTimeMillis()));
    }

    /** The oldest queued job, now claimed by {@code worker}; empty when none is queued. */
    public Optional<Claimed> claim(String worker) {
        return db.inTransaction(h -> {
            String skipLocked = Database.isPostgresql(h) ? " FOR UPDATE SKIP LOCKED" : "";
            return h.createQuery("UPDATE build_jobs SET status = 'claimed', worker = :worker, claimed_at = :now "
                            + "WHERE status = 'queued' AND id = (SELECT id FROM build_jobs WHERE status = 'queued' "
                            + "ORDER BY queued_at, id LIMIT 1" + skipLocked + ") RETURNING id, job")
                    .bind("worker", worker)
                    .bind("now", System.currentTimeMillis())
                    .map((rs, ctx) -> new Claimed(rs.getString("id"), rs.getString("job")))
                    .findOne();
        });
    }

    /** Who claimed the job, if anyone has and it is not finished. */
    public Optional<String> claimedBy(String id) {
        return db.withHandle(h -> h.select("SELECT worker FROM build_jobs WHERE id = ? AND status = 'claimed'", id)
                .mapTo(String.class)
                .findOne());
    }

    /** Ends the job (finished or abandoned); false when it had ended already. */
    public boolean end(String id, String status) {
        return db.withHandle(h -> h.createUpdate(
                                "UPDATE build_jobs SET status = ?, finished_at = ? WHERE id = ? AND status IN ('queued', 'claimed')")
                        .bind(0, status)
                        .bind(1, System.currentTimeMillis())
                        .bind(2, id)
                        .execute())
                == 1;
    }
}
