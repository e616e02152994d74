package io.mayfly.server.store;

import io.mayfly.wire.ConfigCipher;
import io.mayfly.wire.SourceRepository;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** Where an app's code comes from when it is not pushed: a repository URL, a branch and its webhook secret. */
public final class AppSources {
    public record Source(String app, String repoUrl, String branch, String hookSecret) {}

    private final Jdbi db;
    private final ConfigCipher cipher;

    public AppSources(Jdbi db, ConfigCipher cipher) {
        this.db = db;
        this.cipher = cipher;
    }

    /** Sets where the app builds from; throws IllegalArgumentException for anything but a repository elsewhere (see {@link SourceRepository}). */
    public void put(String app, String repoUrl, String branch, String hookSecret) {
        SourceRepository.whyRefused(repoUrl)
                .or(() -> SourceRepository.whyRefusedBranch(branch))
                .ifPresent(why -> {
                    throw new IllegalArgumentException(
                            "cannot build " + app + " from that source: " + why + "; " + SourceRepository.HINT);
                });
        db.useTransaction(h -> {
            h.execute("DELETE FROM app_sources WHERE app = ?", app);
            h.execute(
                    "INSERT INTO app_sources(app, repo_url, branch, hook_secret, created_at) VALUES (?, ?, ?, ?, ?)",
                    app,
                    repoUrl,
                    branch,
                    cipher.seal(Map.of("secret", hookSecret)),
                    System.currentTimeMillis());
        });
    }

    public Optional<Source> find(String app) {
        return db.withHandle(h -> h.select(
                        "SELECT app, repo_url, branch, hook_secret FROM app_sources WHERE app = ?", app)
                .map((rs, ctx) -> new Source(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        cipher.open(rs.getString(4)).get("secret")))
                .findOne());
    }

    public Optional<Instant> lastScheduledRun(String app) {
        return db.withHandle(h -> h.select("SELECT last_run_at FROM scheduled_builds WHERE app = ?", app)
                .mapTo(Long.class)
                .findOne()
                .map(Instant::ofEpochMilli));
    }

    public void scheduledRunAt(String app, Instant at) {
        db.useTransaction(h -> {
            h.execute("DELETE FROM scheduled_builds WHERE app = ?", app);
            h.execute("INSERT INTO scheduled_builds(app, last_run_at) VALUES (?, ?)", app, at.toEpochMilli());
        });
    }
}
