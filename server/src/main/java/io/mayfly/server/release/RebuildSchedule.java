package io.mayfly.server.release;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.mayfly.server.store.AppSources;
import io.mayfly.server.store.Releases;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scheduled rebuilds ({@code build.schedule = "daily"} or a cron expression, in UTC): the deployed commit is built
 * again, for the dependency updates its repository does not see; it deploys only when an artifact changed.
 */
public final class RebuildSchedule {
    private static final Logger log = LoggerFactory.getLogger(RebuildSchedule.class);
    private static final CronParser UNIX = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

    private final Releases releases;
    private final AppSources sources;
    private final SourceBuilds builds;
    private final AppLogs logs;

    public RebuildSchedule(Releases releases, AppSources sources, SourceBuilds builds, AppLogs logs) {
        this.releases = releases;
        this.sources = sources;
        this.builds = builds;
        this.logs = logs;
    }

    /** "hourly", "daily", "weekly" or a five-field cron expression; the next run after {@code after}. */
    public static Instant next(String schedule, Instant after) {
        String cron = switch (schedule.trim()) {
            case "hourly" -> "0 * * * *";
            case "daily" -> "0 0 * * *";
            case "weekly" -> "0 0 * * 0";
            default -> schedule.trim();
        };
        ExecutionTime times = ExecutionTime.forCron(UNIX.parse(cron));
        return times.nextExecution(ZonedDateTime.ofInstant(after, ZoneOffset.UTC))
                .map(ZonedDateTime::toInstant)
                .orElseThrow(() -> new IllegalArgumentException("the schedule '" + schedule + "' never runs"));
    }

    public void start() {
        Thread.ofVirtual().name("rebuild-schedule").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(Duration.ofSeconds(20));
                } catch (InterruptedException e) {
                    return;
                }
                for (Releases.Release live : releases.allLive()) {
                    try {
                        runIfDue(live, Instant.now());
                    } catch (Exception e) {
                        log.error("scheduled rebuild of {} failed", live.app(), e);
                    }
                }
            }
        });
    }

    private void runIfDue(Releases.Release live, Instant now) throws Exception {
        String schedule = live.spec() == null ? null : live.spec().build().schedule();
        if (schedule == null) return;
        Instant last = sources.lastScheduledRun(live.app()).orElse(live.createdAt());
        Instant due;
        try {
            due = next(schedule, last);
        } catch (IllegalArgumentException e) {
            logs.event(live.app(), "build.schedule '" + schedule + "' is not a schedule: " + e.getMessage());
            sources.scheduledRunAt(live.app(), now);
            return;
        }
        if (now.isBefore(due)) return;
        runNow(live.app());
    }

    /** Rebuilds the app's deployed commit now, as its schedule would; returns what the pipeline did. */
    public Optional<PushPipeline.Outcome> runNow(String app) throws Exception {
        sources.scheduledRunAt(app, Instant.now());
        logs.event(app, "scheduled rebuild of the deployed commit");
        Optional<PushPipeline.Outcome> outcome = Actor.as("schedule", () -> {
            try {
                return builds.rebuildMain(app, line -> {});
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        outcome.ifPresent(o -> logs.event(
                app,
                "scheduled rebuild: "
                        + switch (o) {
                            case PushPipeline.Outcome.Unchanged u ->
                                "no artifact changed; v" + u.release() + " stays live";
                            case PushPipeline.Outcome.Live l -> "an artifact changed; deployed as v" + l.release();
                            case PushPipeline.Outcome.Failed f -> "failed: " + f.reason();
                        }));
        return outcome;
    }
}
