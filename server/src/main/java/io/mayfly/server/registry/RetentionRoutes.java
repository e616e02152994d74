package io.mayfly.server.registry;

import io.javalin.config.JavalinConfig;
import io.mayfly.server.http.Access;
import io.mayfly.server.release.Actor;
import io.mayfly.server.store.Audit;
import io.mayfly.server.store.Retention;
import io.mayfly.wire.Json;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code POST /api/v1/prune[?dry_run=true]} (admin) and the hourly prune: retention of builds and blobs. */
public final class RetentionRoutes {
    private static final Logger log = LoggerFactory.getLogger(RetentionRoutes.class);

    private final Access access;
    private final Retention retention;
    private final Audit audit;
    private final int keep;

    public RetentionRoutes(Access access, Retention retention, Audit audit, int keep) {
        this.access = access;
        this.retention = retention;
        this.audit = audit;
        this.keep = keep;
    }

    public void register(JavalinConfig config) {
        config.routes.post("/api/v1/prune", ctx -> {
            access.require(ctx.attribute("mayfly.token"), Access.Need.admin, null);
            boolean dryRun = "true".equals(ctx.queryParam("dry_run"));
            Retention.Report report = retention.prune(keep, dryRun);
            if (!dryRun) {
                audit.record(
                        "*",
                        Actor.current(),
                        "prune",
                        report.builds().size() + " builds, " + report.blobs() + " blobs, " + report.bytes() + " bytes");
            }
            ctx.status(200).contentType("application/json").result(Json.write(new ReportView(keep, report)));
        });
    }

    /** What a prune answers: the retention rule and what it removed (or would remove). */
    public record ReportView(int keepBuilds, Retention.Report report) {}

    /** Prunes every hour, in the background. */
    public void startHourly() {
        Thread.ofVirtual().name("prune").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(Duration.ofHours(1));
                    Retention.Report r = retention.prune(keep, false);
                    if (!r.builds().isEmpty() || r.blobs() > 0) {
                        log.info(
                                "pruned {} builds and {} blobs, {} bytes freed",
                                r.builds().size(),
                                r.blobs(),
                                r.bytes());
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    log.error("the hourly prune failed", e);
                }
            }
        });
    }
}
